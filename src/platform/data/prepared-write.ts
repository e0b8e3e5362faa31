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

/**
 * What drizzle's node-postgres driver returns from `.prepare(name)`: the SQL rendered once, run on
 * `client` (a pool or one checked-out connection) with the placeholders filled per call.
 */
interface PgPrepared {
  client: unknown;
  execute(values: Record<string, unknown>): Promise<unknown>;
}

export interface PreparedWrite<Row> {
  /** Runs the statement inside the unit of work `tx`; answers how many rows it changed. */
  run(tx: Db, values: Record<string, unknown>): Promise<number>;
  /** Runs a statement with RETURNING inside the unit of work `tx`; answers the rows it returned. */
  all(tx: Db, values: Record<string, unknown>): Promise<Row[]>;
  /**
   * Runs the statement inside the unit of work `tx` for a unit that needs nothing back from it:
   * on Postgres it is sent with the unit's next statement or with its COMMIT rather than on a
   * round trip of its own (pg-unit-connection.ts), and a failure fails the unit there; on SQLite
   * it runs at once. Nothing the unit reads afterwards misses it: it goes ahead of any statement.
   */
  later(tx: Db, values: Record<string, unknown>): Promise<void>;
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
 * Postgres each unit of work runs on a connection of its own: the statement is built once too (a
 * named statement: the server parses and plans it once per connection), and each call runs it on
 * the connection of the unit it is given. drizzle binds a prepared query to the handle that built
 * it, so the call points the query at that connection for the moment `execute` takes it: execute
 * reads its client before its first await, and nothing else runs in between.
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
      async later(_tx, values) {
        get().run(values);
      },
    };
  }
  const execute = pgStatement(engine.pool as unknown as Db, `${store.module}_${name}`, build);
  return {
    async run(tx, values) {
      const result = await execute(tx, values);
      return Array.isArray(result) ? result.length : ((result as { rowCount?: number | null }).rowCount ?? 0);
    },
    async all(tx, values) {
      return (await execute(tx, values)) as Row[];
    },
    later(tx, values) {
      return writeLater(tx, () => execute(tx, values));
    },
  };
}

/**
 * Postgres: `build`'s statement built once on `pool` as the named statement `name`, and a call
 * that runs it on the connection of the handle it is given (a unit of work's, or the pool). It
 * answers what drizzle's execute does: the rows of a statement with fields, else pg's result.
 */
export function pgStatement(pool: Db, name: string, build: (db: Db) => unknown): (tx: Db, values: Record<string, unknown>) => Promise<unknown> {
  let prepared: PgPrepared | undefined;
  return (tx, values) => {
    const query = (prepared ??= (build(pool) as { prepare(name: string): PgPrepared }).prepare(name));
    const shared = query.client;
    query.client = connectionOf(tx);
    try {
      return query.execute(values);
    } finally {
      query.client = shared;
    }
  };
}

/** The pg client a drizzle handle runs on: a transaction's own connection, or the pool. */
function connectionOf(tx: Db): unknown {
  const client = (tx as unknown as { session?: { client?: unknown } }).session?.client;
  if (!client) throw new Error('preparedWrite: not a drizzle node-postgres handle');
  return client;
}

/**
 * What a Postgres unit of work's connection offers (pg-unit-connection.ts, which loads pg: it is
 * named here by its shape, so the embedded default never loads it).
 */
export interface HoldsWrites {
  later(write: () => Promise<unknown>): Promise<void>;
  together<T extends readonly unknown[]>(sends: { [K in keyof T]: () => Promise<T[K]> }): Promise<T>;
}

/**
 * Runs `write` on the unit of work `tx` without a round trip of its own when `tx` is a Postgres
 * unit's handle (its connection holds it for the unit's next statement or COMMIT); anywhere else
 * it is simply run and awaited.
 */
export async function writeLater(tx: Db, write: () => Promise<unknown>): Promise<void> {
  const unit = unitConnectionOf(tx);
  if (unit) await unit.later(write);
  else await write();
}

/** `tx`'s connection when it is a Postgres unit of work's (told by its shape), else undefined. */
function unitConnectionOf(tx: Db): HoldsWrites | undefined {
  const client = connectionOf(tx) as Partial<HoldsWrites>;
  return typeof client.later === 'function' && typeof client.together === 'function' ? (client as HoldsWrites) : undefined;
}

/**
 * Runs `sends` (each sending one statement: a prepared write's `run` or `all`) in the unit of work
 * `tx`, for statements that do not depend on each other's answers: on Postgres in one round trip
 * (pg-unit-connection.ts), so a failure of one leaves those after it unrun and fails the unit;
 * anywhere else one after the other. Answers what each answered, in order.
 */
export async function sendTogether<T extends readonly unknown[]>(tx: Db, sends: { [K in keyof T]: () => Promise<T[K]> }): Promise<T> {
  const unit = unitConnectionOf(tx);
  if (unit) return unit.together<T>(sends);
  const answers: unknown[] = [];
  for (const send of sends) answers.push(await send());
  return answers as unknown as T;
}
