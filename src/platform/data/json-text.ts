// A text field of a JSON column as an SQL expression: `column->>'key'`, which both engines read the
// same way (Postgres on jsonb; SQLite 3.38+ on JSON text, where a plain label means '$.key'). The
// same expression serves an index (`k.index(...).on(t.a, jsonText(t.data, 'key'))`) and the queries
// that read by it, which is what lets the engine use that index. An expression index rather than a
// generated column: adding a stored column rewrites the table under an exclusive lock on Postgres
// (every read of it waits), while building an index only holds its writes back; and rows written
// by a version of the code that predates it are covered without a backfill.
import { sql, type SQL } from 'drizzle-orm';

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function jsonText(column: unknown, key: string): SQL {
  // Interpolated into the SQL text; a plain label means the same key on both engines.
  if (!PLAIN_KEY.test(key)) throw new Error(`jsonText: "${key}" is not a plain key`);
  return sql`(${column}->>${sql.raw(`'${key}'`)})`;
}
