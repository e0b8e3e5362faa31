// An error and the errors it was caused by (`cause`), outermost first: drizzle wraps pg's errors,
// and a statement that did not run carries the failure that stopped it (data/not-run.ts). Bounded,
// so a cycle of causes cannot loop.
export function* causeChain(err: unknown): Generator<unknown> {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) yield e;
}
