// A module's tables are written once, against this kit, and built for both engines:
// Postgres (inside the module's own schema) and SQLite (inside the module's own file). The
// TypeScript types are the Postgres ones; the SQLite builders produce the same runtime values
// (Date for timestamps, numbers, booleans, parsed JSON), which the dual-engine tests hold us to.
import * as pg from 'drizzle-orm/pg-core';
import * as sq from 'drizzle-orm/sqlite-core';

export type Dialect = 'sqlite' | 'pg';

export function pgKit(schemaName: string) {
  const schema = pg.pgSchema(schemaName);
  return {
    table: schema.table.bind(schema) as typeof schema.table,
    text: (name: string) => pg.text(name),
    int: (name: string) => pg.integer(name),
    /** 53-bit integers (money in minor units, counters): `bigint` on Postgres, `integer` on SQLite. */
    bigint: (name: string) => pg.bigint(name, { mode: 'number' }),
    bool: (name: string) => pg.boolean(name),
    /** Millisecond-precision instants, always read back as Date. */
    timestamp: (name: string) => pg.timestamp(name, { withTimezone: true, mode: 'date', precision: 3 }),
    json: <T>(name: string) => pg.jsonb(name).$type<T>(),
    /** An auto-incrementing primary key, for rows whose insertion order matters (outbox, ledgers). */
    sequence: (name: string) => pg.bigserial(name, { mode: 'number' }).primaryKey(),
    index: pg.index,
    uniqueIndex: pg.uniqueIndex,
    primaryKey: pg.primaryKey,
  };
}

export type SchemaKit = ReturnType<typeof pgKit>;

export function sqliteKit(): SchemaKit {
  const kit = {
    table: sq.sqliteTable,
    text: (name: string) => sq.text(name),
    int: (name: string) => sq.integer(name),
    bigint: (name: string) => sq.integer(name),
    bool: (name: string) => sq.integer(name, { mode: 'boolean' }),
    timestamp: (name: string) => sq.integer(name, { mode: 'timestamp_ms' }),
    json: <T>(name: string) => sq.text(name, { mode: 'json' }).$type<T>(),
    sequence: (name: string) => sq.integer(name).primaryKey({ autoIncrement: true }),
    index: sq.index,
    uniqueIndex: sq.uniqueIndex,
    primaryKey: sq.primaryKey,
  };
  return kit as unknown as SchemaKit;
}

