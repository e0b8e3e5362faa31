// A write a module runs for every order (or every event), built once. drizzle otherwise builds
// the same insert or update anew on every call and renders its SQL (on SQLite, most of a unit of
// work's own time once group commit took the commits off the top of the profile). The statement
// is built with `bound(...)` where the values go, and each call binds
// this call's values. It lives here because it needs the store's engine, which modules never touch.
import { sql, type Placeholder, type SQL } from 'drizzle-orm';
import type { Db, ModuleStore } from './module-store.ts';

/** What drizzle's better-sqlite3 driver returns from `.prepare()`: synchronous calls. */
interface SqlitePrepared {
  run(values: Record<string, unknown>): { changes: number };
  all(values: Record<string, unknown>): unknown[];
}

interface PgPreparable {
  prepare(name: string): { execute(values: Record<string, unknown>): Promise<unknown> };
}

export interface PreparedWrite<Row> {
  /** Runs the statement inside the unit of work `tx`; answers how many rows it changed. */
  run(tx: Db, values: Record<string, unknown>): Promise<number>;
  /** Runs a statement with RETURNING inside the unit of work `tx`; answers the rows it returned. */
  all(tx: Db, values: Record<string, unknown>): Promise<Row[]>;
}

/**
 * A placeholder bound as its column stores its value (a Date, a boolean, JSON), null as null. Use
 * it for every value of a prepared write, in `values()`, `set()` and conditions alike: drizzle
 * encodes a bare placeholder in `values()`/`set()` without letting null through, and in a
 * condition not at all.
 */
export function bound(column: unknown, name: string): SQL {
  const encoder = column as { mapToDriverValue(value: unknown): unknown };
  return sql`${sql.param(sql.placeholder(name) as Placeholder, { mapToDriverValue: (value: unknown) => (value === null || value === undefined ? null : encoder.mapToDriverValue(value)) })}`;
}

/**
 * On SQLite: prepared once, on first use (SQLite refuses to prepare against a table that does not
 * exist yet, and a store opens before its migrations run), on the store's writer connection, the
 * one every unit of work runs on: called with a unit's `tx`, it runs inside that unit. On
 * Postgres each unit of work has its own pooled connection, and a drizzle prepared query is bound
 * to the handle that built it, so the statement is built on `tx` per call, as a named statement:
 * the server parses and plans it once per connection instead of per call.
 */
export function preparedWrite<Row = never>(store: ModuleStore, name: string, build: (db: Db) => unknown): PreparedWrite<Row> {
  const engine = store.engine;
  if (engine.dialect === 'sqlite') {
    let prepared: SqlitePrepared | undefined;
    const get = () => (prepared ??= (build(engine.writer as unknown as Db) as { prepare(): SqlitePrepared }).prepare());
    return {
      async run(_tx, values) {
        return get().run(values).changes;
      },
      async all(_tx, values) {
        return get().all(values) as Row[];
      },
    };
  }
  const statement = `${store.module}_${name}`;
  const execute = (tx: Db, values: Record<string, unknown>) => (build(tx) as PgPreparable).prepare(statement).execute(values);
  return {
    async run(tx, values) {
      const result = await execute(tx, values);
      return Array.isArray(result) ? result.length : ((result as { rowCount?: number | null }).rowCount ?? 0);
    },
    async all(tx, values) {
      return (await execute(tx, values)) as Row[];
    },
  };
}
