// A LIMIT written into a statement's text instead of bound as a parameter. drizzle binds the
// number given to `.limit(n)`, and SQLite (3.54) plans a statement whose LIMIT is a bound
// parameter anew every time it runs with a fresh binding: `sqlite3Reprepare`, the parser and
// the planner on every call. A point lookup by key took 5.0 µs with `LIMIT ?` and 0.93 µs with
// `LIMIT 1` in its text (decision 22). drizzle writes an SQL chunk given to `.limit()` as it is.
import { sql } from 'drizzle-orm';

/**
 * `n` as a LIMIT in the statement's text, for `.limit()`. Each value is a statement of its own:
 * pass constants or small validated numbers (a page size), never a free-form count. A query built
 * per call finds its statement in the connection's cache of 256 texts (sqlite-store.ts); a
 * statement built once (`preparedRead`, `preparedWrite`, named on Postgres) keeps the value it was
 * built with, so give those a constant only, or a placeholder where Postgres alone runs it.
 */
export function fixedLimit(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`a LIMIT must be a whole number of rows, not ${n}`);
  // Typed as the number `.limit()` takes; at run time the chunk drizzle writes into the text.
  return sql.raw(String(n)) as unknown as number;
}
