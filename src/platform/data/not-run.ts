// A statement of a round trip to Postgres that did not run because one sent before it failed
// (pg-round-trip.ts): on a unit of work's connection, usually a write held for that round trip
// (pg-unit-connection.ts). Kept apart from pg-round-trip.ts, which loads pg, so code on every
// engine can tell it.
import { causeChain } from '../errors/causes.ts';

export class NotRun extends Error {
  override name = 'NotRun';

  constructor(cause: unknown, why = 'a statement sent before it in the same round trip failed') {
    super(`not run: ${why} (${(cause as Error)?.message ?? cause})`, { cause });
  }
}

/**
 * Whether `err`, or an error it was caused by (drizzle wraps pg's), is a NotRun: what failed was
 * an earlier statement of the unit (a held write), not the one that reported it.
 */
export function failedBeforeIt(err: unknown): boolean {
  for (const e of causeChain(err)) if (e instanceof NotRun) return true;
  return false;
}
