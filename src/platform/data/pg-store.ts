// Postgres engine: one schema per module. A module's pool connects with the URL it is
// given — with `npm run migrate` having set up roles, that URL names the module's own role,
// which can reach its own schema only.
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { AsyncLocalStorage } from 'node:async_hooks';
import { migrationCount, migrationsFolder, MIGRATIONS_TABLE } from './migrations-folder.ts';
import { pgPlatformStatements } from './pg-platform-statements.ts';
import { UnitConnection, type UnitToken } from './pg-unit-connection.ts';
import { CommitGroup, type CommitGroupObserver } from './pg-commit-group.ts';
import { ReadGroup, type Connections } from './pg-read-group.ts';
import { sessionEnded } from './pg-errors.ts';
import { NestedTransactionError, StoreClosed, UnitTimedOut, type Db, type ModuleStore } from './module-store.ts';
import type { ModuleSchema, PlatformTables } from './schema-kit.ts';

export interface PgStoreOptions {
  url: string;
  poolMax?: number;
  applicationName?: string;
  /** Told of each commit group the server refused (pg-commit-group.ts). */
  groups?: CommitGroupObserver;
  /**
   * How long a unit's callback may run before the unit fails with UnitTimedOut: its connection is
   * then closed, which ends its transaction on the server, rather than held for ever (Infinity:
   * no limit).
   */
  unitTimeoutMs?: number;
}

export function openPgStore<T extends Record<string, unknown>>(
  schema: ModuleSchema<T>,
  options: PgStoreOptions,
): ModuleStore<T & PlatformTables> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax ?? 4,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: 5_000,
    application_name: options.applicationName ?? `module:${schema.module}`,
  });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', () => {});
  const pgDb = drizzle({ client: pool });
  const db = pgDb as unknown as Db;
  const tables = schema.tables('pg');
  const folder = migrationsFolder(schema, 'pg');
  // The unit of work whose callback is running in this async context (its `open` says whether it still is).
  const inside = new AsyncLocalStorage<UnitToken>();
  const connections = closableConnections(pool);
  const group = new CommitGroup(connections, options.groups);
  const reads = new ReadGroup(connections);
  // A unit's connection and drizzle handle, made once and used again by the units that follow.
  const idle: UnitHandle[] = [];
  const units: Units = {
    take: () => idle.pop() ?? newUnitHandle(connections, group, limits.current),
    // Kept up to a bound: units are no longer bounded by the pool, and a burst's worth need not stay.
    giveBack: (handle) => void (idle.length < IDLE_UNIT_HANDLES && idle.push(handle)),
  };
  const limits: UnitLimits = { timeoutMs: options.unitTimeoutMs ?? 30_000, current: () => inside.getStore(), url: options.url };
  if (!(limits.timeoutMs > 0)) throw new RangeError(`unitTimeoutMs must be above 0 (got ${limits.timeoutMs})`);

  return {
    module: schema.module,
    tables,
    db,
    engine: { dialect: 'pg', pool: pgDb, reads },
    forUpdate: (query) => query.for('update'),
    // A single statement is atomic by itself: no BEGIN/COMMIT round trips around it.
    writeStatement: (fn) => fn(db),
    platform: pgPlatformStatements(schema.module, tables, db),
    transaction(fn) {
      // A unit that has ended is no longer open: work it started (a timer, a poller) may open its own.
      if (inside.getStore()?.open) return Promise.reject(new NestedTransactionError(schema.module));
      // Its connection is taken only when it first sends: refused here, not at its first statement.
      if (connections.closed) return Promise.reject(new StoreClosed());
      const token: UnitToken = { open: true };
      return inside.run(token, () => unitOfWork(units, token, limits, fn));
    },
    async pendingMigrations() {
      const total = migrationCount(folder);
      const res = await pool.query<{ n: string | null }>(
        `SELECT CASE WHEN to_regclass($1) IS NULL THEN NULL ELSE 1 END AS n`,
        [`"${schema.module}".${MIGRATIONS_TABLE}`],
      );
      if (res.rows[0]?.n === null) return total;
      const count = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema.module}".${MIGRATIONS_TABLE}`);
      return Math.max(0, total - Number(count.rows[0]?.n ?? 0));
    },
    async ping() {
      await db.execute(sql`select 1`);
    },
    async close() {
      // First: the pool's end would leave the reads and units waiting for a connection until its timeout.
      connections.close();
      await pool.end();
    },
  };
}

/** How many idle unit handles (a UnitConnection and its drizzle handle) a store keeps for the units to come. */
const IDLE_UNIT_HANDLES = 256;

interface UnitHandle {
  unit: UnitConnection;
  tx: Db;
}

interface Units {
  take(): UnitHandle;
  giveBack(handle: UnitHandle): void;
}

function newUnitHandle(connections: ClosableConnections, group: CommitGroup, current: () => UnitToken | undefined): UnitHandle {
  const unit = new UnitConnection(connections, group, current);
  return { unit, tx: drizzle({ client: unit as never }) as unknown as Db };
}

interface UnitLimits {
  timeoutMs: number;
  /** The token of the unit whose callback the caller runs in. */
  current: () => UnitToken | undefined;
  /** Where a cancel request for a timed-out unit's running statement goes. */
  url: string;
}

/**
 * One unit of work, as drizzle's transaction runs it (BEGIN, the unit, COMMIT, or ROLLBACK on
 * any failure), with three differences: the BEGIN, the outbox's rows and the writes marked `later`
 * ride on statements that go anyway, and the unit takes a pooled connection only when it first
 * sends one (pg-unit-connection.ts); the drizzle handle is made once; and the connection's own
 * 'error' event is handled while the unit holds it — a backend the server ends mid-unit (a
 * failover, pg_terminate_backend) failed the unit's statements and also raised an unhandled
 * 'error' that took the process down. A connection that failed (the connection itself, a session
 * the server ended, or its ROLLBACK) is closed rather than returned to the pool.
 */
async function unitOfWork<R>(units: Units, token: UnitToken, limits: UnitLimits, fn: (tx: Db) => Promise<R>): Promise<R> {
  const handle = units.take();
  const { unit, tx } = handle;
  let broken: Error | undefined;
  let timedOut: UnitTimedOut | undefined;
  unit.start(token);
  try {
    let result: R;
    let timer: NodeJS.Timeout | undefined;
    try {
      result = await new Promise<R>((resolve, reject) => {
        if (Number.isFinite(limits.timeoutMs)) timer = setTimeout(() => reject((timedOut = new UnitTimedOut(limits.timeoutMs))), Math.min(2 ** 31 - 1, limits.timeoutMs));
        Promise.resolve(fn(tx)).then(resolve, reject);
      });
    } finally {
      clearTimeout(timer);
      // The handle serves the next unit that takes it: work this callback left running must not
      // reach that unit, nor autocommit in the pool.
      token.open = false;
    }
    await unit.commit();
    return result;
  } catch (err) {
    // The server ended the session (its 'error' event comes later, once the socket closes):
    // the connection must not go back to the pool, where the next unit would meet a dead one.
    if (sessionEnded(err)) broken ??= err as Error;
    // A ROLLBACK would wait behind whatever statement the unit still has running. That
    // statement is cancelled and the connection closed instead: the server rolls the
    // transaction back and lets go of its locks as the backend ends. (Only this unit's own
    // timeout: one its callback passed on, from another unit, leaves this connection sound.)
    if (timedOut !== undefined && err === timedOut) {
      broken ??= timedOut;
      unit.abandon(timedOut);
      const client = unit.connection;
      if (client) cancelRunning(client, limits.url);
    } else await unit.rollback().catch((e: Error) => (broken = e));
    throw err;
  } finally {
    unit.end(broken);
    units.giveBack(handle);
  }
}

/**
 * Asks the server to cancel the statement `client` is running, if any, on a connection of its own
 * (Postgres's cancel request: no login). Without it, a backend whose client went away keeps
 * running its statement, and holding the transaction's locks, until that statement ends.
 */
function cancelRunning(client: pg.PoolClient, url: string): void {
  const running = (client as unknown as { activeQuery?: unknown }).activeQuery;
  if (!running) return;
  const canceller = new pg.Client({ connectionString: url });
  // The cancel request's own socket: the server closes it once read; nothing waits on it.
  (canceller as unknown as { connection: { on(event: 'error', f: () => void): void } }).connection.on('error', () => {});
  (canceller as unknown as { cancel(client: unknown, query: unknown): void }).cancel(client, running);
}

interface ClosableConnections extends Connections {
  readonly closed: boolean;
  close(): void;
}

/**
 * The pool's connect, for units of work and read batches, failed at once for every one waiting
 * for a connection when the store closes, and for every one after: pg's pool, once ended, leaves
 * a connect it has queued waiting until its connection timeout. A connection handed over after
 * the close goes straight back.
 */
function closableConnections(pool: pg.Pool): ClosableConnections {
  const waiting = new Set<(err: Error) => void>();
  let closed = false;
  return {
    get closed() {
      return closed;
    },
    connect() {
      if (closed) return Promise.reject(new StoreClosed());
      return new Promise((resolve, reject) => {
        waiting.add(reject);
        pool.connect().then(
          (client) => {
            waiting.delete(reject);
            if (closed) {
              client.release();
              reject(new StoreClosed());
            } else resolve(client);
          },
          (err: Error) => {
            waiting.delete(reject);
            reject(err);
          },
        );
      });
    },
    close() {
      closed = true;
      for (const reject of waiting) reject(new StoreClosed());
      waiting.clear();
    },
  };
}
