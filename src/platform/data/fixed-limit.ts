// A LIMIT written into a statement's text instead of bound as a parameter. drizzle binds the
// number given to `.limit(n)`, and SQLite (3.54) plans a statement whose LIMIT is a bound
// parameter anew every time it runs with a fresh binding: `sqlite3Reprepare`, the parser and
// the planner on every call. A point lookup by key took 5.0 µs with `LIMIT ?` and 0.93 µs with
// `LIMIT 1` in its text (decision 22). drizzle writes an SQL chunk given to `.limit()` as it is.
import { sql } from 'drizzle-orm';

/**
 * `n` as a LIMIT in the statement's text, for `.limit()`: each value is a statement of its own
 * (prepared once per connection, like any other text), so pass constants or small validated
 * numbers (a page size), never a free-form count.
 */
export function fixedLimit(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`a LIMIT must be a whole number of rows, not ${n}`);
  // Typed as the number `.limit()` takes; at run time the chunk drizzle writes into the text.
  return sql.raw(String(n)) as unknown as number;
}
