/**
 * Polls `check` until it returns a truthy value or the deadline passes: how a test waits for
 * asynchronous work, never with a fixed sleep. Deadlines are sized for a loaded machine.
 */
export async function eventually<T>(check: () => Promise<T | undefined | false | null> | T | undefined | false | null, what = 'condition', timeoutMs = 15_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
