// Statements SQLite plans once. SQLite (3.54, as better-sqlite3 builds it) plans a statement anew
// on every run when its plan used the value of a bound parameter (`sqlite3Reprepare`: the parser
// and the planner inside each step), and better-sqlite3 cannot turn that off (the query-planner
// stability guarantee is set through `sqlite3_db_config`). Two shapes do it (decision 22):
// - a LIMIT bound as a parameter, which is what drizzle renders for `.limit(n)`: a point lookup
//   took 5.0 µs with `LIMIT ?` and 0.93 µs with `LIMIT 1` in its text;
// - an equality on a bare parameter ahead of an ORDER BY the index serves: the payments account's
//   latest summary took 7.0 µs with `account_id = ?` and 1.05 µs with `account_id = cast(? as text)`,
//   on the same plan.
// Both answers here are plain SQL on Postgres too, which plans a named statement once anyway.
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';

/**
 * `n` as a LIMIT in the statement's text, for `.limit()` (drizzle writes an SQL chunk given to it
 * as it is). Each value is a statement of its own: pass constants or small validated numbers (a
 * page size), never a free-form count. A query built per call finds its statement in the
 * connection's cache of 256 texts (sqlite-store.ts); a statement built once (`preparedRead`,
 * `preparedWrite`, named on Postgres) keeps the value it was built with, so give those a constant
 * only, or a placeholder where Postgres alone runs it.
 */
export function fixedLimit(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`a LIMIT must be a whole number of rows, not ${n}`);
  // Typed as the number `.limit()` takes; at run time the chunk drizzle writes into the text.
  return sql.raw(String(n)) as unknown as number;
}

/**
 * `column = cast(value as text)` for a text column, in a read that orders by an index after this
 * equality: the same plan and rows as `eq(column, value)` on both engines, planned once on SQLite.
 * `value` is a string (bound as a parameter) or a placeholder (`bound(...)`, `sql.placeholder`).
 */
export function textEquals(column: SQLWrapper, value: string | SQL): SQL {
  return sql`${column} = cast(${value} as text)`;
}
