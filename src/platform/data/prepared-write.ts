// A write a module runs for every order (or every event), built once. drizzle otherwise builds
// the same insert or update anew on every call and renders its SQL (on SQLite, most of a unit of
// work's own time once group commit took the commits off the top of the profile). The statement
// is built with `bound(...)` where the values go, and each call binds
// this call's values. It lives here because it needs the store's engine, which modules never touch.
import { getTableColumns, sql, type Placeholder, type SQL, type Table } from 'drizzle-orm';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { NotRun } from './not-run.ts';
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
  /**
   * As `later`, for a unit that needs the statement's rows, but only once it has committed: on
   * Postgres they arrive with the round trip that carries the statement (the COMMIT, if nothing
   * goes before it). Read `rows` after the unit: awaited inside it, before anything else sends
   * the statement, it would wait forever. On SQLite it runs at once.
   */
  laterWithRows(tx: Db, values: Record<string, unknown>): { rows: Promise<Row[]> };
}

export interface PreparedWriteOptions {
  /**
   * The statement (an insert, update or delete with RETURNING) must change exactly this many
   * rows, or it fails with RowsNotAsExpected. On Postgres the database checks it as part of the
   * statement, so a write held for the COMMIT that changed no row fails the round trip there and
   * the COMMIT never runs: a unit can send a conditional write and its COMMIT together and still
   * commit nothing when the condition did not hold. On SQLite it is checked as the statement runs.
   * Let the failure end the unit (do not catch it inside): on SQLite the write has run by then, and
   * only the unit's rollback takes it back.
   */
  expectRows?: number;
}

/** A write made with `expectRows` changed another number of rows; its unit of work was rolled back. */
export class RowsNotAsExpected extends Error {
  readonly statement: string;
  constructor(statement: string, detail: string) {
    super(`rows not as expected: ${statement} ${detail}`);
    this.statement = statement;
    this.name = 'RowsNotAsExpected';
  }
}

// On Postgres the check raises by casting a text to integer: plain SQL has no raise, and the text
// (it names the statement and the count) is not a constant, so the planner cannot fold it away.
// The server words the error in its own language (lc_messages) around our text, which it quotes
// as it is: the text is looked for anywhere in the message.
const PG_MISMATCH = /rows not as expected: (\w+) changed \d+, expected \d+/;

/**
 * Whether `err` is a write made with `expectRows` (named `statement`, as `${module}_${name}`, if
 * given) that changed another number of rows: a RowsNotAsExpected, or on Postgres the error the
 * database raised for it, wherever in the unit of work it surfaced (the COMMIT's round trip).
 */
export function rowsNotAsExpected(err: unknown, statement?: string): boolean {
  if (err instanceof RowsNotAsExpected) return statement === undefined || err.statement === statement;
  // drizzle wraps the error of a statement it ran itself ("Failed query: …") around pg's, and a
  // statement sent after the failing one in its round trip carries that one's (NotRun). No other
  // cause is followed: a unit that failed because another did (a lost group commit) is not this.
  if (err instanceof DrizzleQueryError || err instanceof NotRun) return rowsNotAsExpected(err.cause, statement);
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e?.code !== '22P02' || typeof e.message !== 'string') return false;
  const m = PG_MISMATCH.exec(e.message);
  return m !== null && (statement === undefined || m[1] === statement);
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

/** `{ column: bound(column) }` for every column of `table`: the values of an insert of a whole row. */
export function placeholdersFor(table: unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(getTableColumns(table as Table)).map(([k, column]) => [k, bound(column, k)]));
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
export function preparedWrite<Row = never>(store: ModuleStore, name: string, build: (db: Db) => unknown, options: PreparedWriteOptions = {}): PreparedWrite<Row> {
  const engine = store.engine;
  const expected = options.expectRows;
  const statement = `${store.module}_${name}`;
  // On Postgres the name goes into the statement's text as a literal.
  if (expected !== undefined && !/^\w+$/.test(statement)) throw new Error(`preparedWrite ${statement}: a write with expectRows needs a name of letters, digits and _`);
  if (engine.dialect === 'sqlite') {
    let prepared: SqlitePrepared | undefined;
    const get = () => (prepared ??= (build(engine.writer as unknown as Db) as { prepare(): SqlitePrepared }).prepare());
    const checked = (values: Record<string, unknown>) => {
      const rows = get().all(values) as Row[];
      if (rows.length !== expected) throw new RowsNotAsExpected(statement, `changed ${rows.length}, expected ${expected}`);
      return rows;
    };
    if (expected !== undefined) {
      return {
        async run(_tx, values) {
          return checked(values).length;
        },
        async all(_tx, values) {
          return checked(values);
        },
        async later(_tx, values) {
          checked(values);
        },
        laterWithRows(_tx, values) {
          // Run at once: a mismatch fails the unit here, as a held write's would at its COMMIT.
          return { rows: Promise.resolve(checked(values)) };
        },
      };
    }
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
      laterWithRows(_tx, values) {
        return { rows: Promise.resolve(get().all(values) as Row[]) };
      },
    };
  }
  const execute = pgStatement(engine.pool as unknown as Db, statement, build, expected);
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
    laterWithRows(tx, values) {
      const unit = unitConnectionOf(tx);
      return { rows: (unit ? unit.laterWithAnswer(() => execute(tx, values)) : execute(tx, values)) as Promise<Row[]> };
    },
  };
}

/**
 * Postgres: `build`'s statement built once on `pool` as the named statement `name`, and a call
 * that runs it on the connection of the handle it is given (a unit of work's, or the pool). It
 * answers what drizzle's execute does: the rows of a statement with fields, else pg's result.
 */
export function pgStatement(pool: Db, name: string, build: (db: Db) => unknown, expectRows?: number): (tx: Db, values: Record<string, unknown>) => Promise<unknown> {
  let prepared: PgPrepared | undefined;
  const prepare = () => {
    const query = (build(pool) as { prepare(name: string): PgPrepared }).prepare(name);
    if (expectRows !== undefined) checkedByTheDatabase(query as unknown as DrizzlePgQuery, name, expectRows);
    return query;
  };
  return (tx, values) => {
    const query = (prepared ??= prepare());
    const shared = query.client;
    query.client = connectionOf(tx);
    try {
      return query.execute(values);
    } finally {
      query.client = shared;
    }
  };
}

/** The parts of drizzle's node-postgres prepared query that hold its SQL text. */
interface DrizzlePgQuery {
  fields?: unknown[];
  queryString: string;
  queryConfig: { text: string };
  rawQueryConfig: { text: string };
}

/**
 * Rewrites a prepared write (with RETURNING) into one statement that also counts the rows it
 * changed and fails when they are not `expected`: the write as a data-modifying CTE, its count in
 * a one-row CTE that raises on a mismatch, and the write's own rows, joined on that row so the
 * check is evaluated whatever the write changed (an unused output would be pruned unevaluated).
 * Its rows come back in the write's own column order, so drizzle maps them as before.
 */
function checkedByTheDatabase(query: DrizzlePgQuery, name: string, expected: number): void {
  if (!query.fields) throw new Error(`preparedWrite ${name}: expectRows needs a statement with RETURNING`);
  const text =
    `with w as (${query.queryString}), c as (select case when count(*) = ${expected} then 1 ` +
    `else ('rows not as expected: ${name} changed ' || count(*) || ', expected ${expected}')::int end as ok from w) ` +
    `select w.* from c left join w on c.ok = 1`;
  query.queryString = query.queryConfig.text = query.rawQueryConfig.text = text;
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
  laterWithAnswer<T>(write: () => Promise<T>): Promise<T>;
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
  return typeof client.later === 'function' && typeof client.laterWithAnswer === 'function' && typeof client.together === 'function' ? (client as HoldsWrites) : undefined;
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
