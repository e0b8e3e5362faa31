// SQLite engine: one file per module under DATA_DIR. better-sqlite3 is synchronous and
// drizzle's transactions refuse async callbacks, so units of work run one at a time, in arrival
// order, on a dedicated writer connection; those that queue up while one runs share a transaction
// and its commit, each in its own savepoint (group-commit.ts). Reads use a second connection that
// sees only committed data (WAL) and refuses writes (query_only).
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { GroupCommitter, TransactionLost, type GroupCommitOptions, type UnitToken } from './group-commit.ts';
import { sqlitePlatformStatements } from './sqlite-platform-statements.ts';
import { checkpointInBackground, WAL_SIZE_LIMIT_BYTES, WRITER_FALLBACK_PAGES } from './wal-checkpointer.ts';
import { refuseAttach } from '../boundaries/sqlite-guard.ts';
import { migrationCount, migrationsFolder, MIGRATIONS_TABLE } from './migrations-folder.ts';
import { NestedTransactionError, OutsideUnitOfWork, StoreClosed, type Db, type ModuleStore } from './module-store.ts';
import type { ModuleSchema, PlatformTables } from './schema-kit.ts';

export interface SqliteStoreOptions {
  dataDir: string;
  busyTimeoutMs?: number;
  /** How many units, and for how long, one group commit may take (group-commit.ts). */
  groupCommit?: GroupCommitOptions;
}

export function sqliteFile(dataDir: string, module: string): string {
  return join(dataDir, `${module}.sqlite`);
}

export function openSqliteStore<T extends Record<string, unknown>>(
  schema: ModuleSchema<T>,
  options: SqliteStoreOptions,
): ModuleStore<T & PlatformTables> {
  mkdirSync(options.dataDir, { recursive: true });
  const file = sqliteFile(options.dataDir, schema.module);
  const busy = options.busyTimeoutMs ?? 5000;

  const writer = new Database(file);
  writer.pragma('journal_mode = WAL');
  // In WAL mode NORMAL loses nothing on a process crash (kill -9); only an OS crash can drop the
  // last commits. That is the trade SQLite's own docs recommend for WAL.
  writer.pragma('synchronous = NORMAL');
  writer.pragma(`busy_timeout = ${busy}`);
  writer.pragma('foreign_keys = ON');
  // Checkpoints run off the event loop (wal-checkpointer.ts); the writer's own is the fallback.
  writer.pragma(`wal_autocheckpoint = ${WRITER_FALLBACK_PAGES}`);
  writer.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  // Statement journals (a write inside a transaction that may have to undo just itself: every
  // unit of a group but the first runs in a savepoint) and temporary b-trees in memory, not in
  // temp files: on the orders path the files took about 25 write syscalls an order. Neither
  // outlives its statement, so a crash loses nothing the WAL keeps (decision 35).
  writer.pragma('temp_store = MEMORY');
  const reader = new Database(file);
  reader.pragma(`busy_timeout = ${busy}`);
  reader.pragma('query_only = ON');
  reader.pragma('temp_store = MEMORY');
  const checkpoints = checkpointInBackground(file);
  // Its file and no other: neither connection may ATTACH another module's file.
  refuseAttach(writer, schema.module);
  refuseAttach(reader, schema.module);
  // Its transaction-control statements are prepared before the writer's statements are guarded:
  // they run between units, for none of them.
  const committer = new GroupCommitter(writer, { ...options.groupCommit, ended: closeCursors });
  const inside = new AsyncLocalStorage<UnitToken>();
  reusePreparedStatements(writer, (stmt) =>
    guardWriterStatement(stmt, committer, () => {
      const unit = inside.getStore();
      if (unit !== undefined && committer.isRunning(unit)) return unit;
      return unit === undefined ? 'outside' : 'ended';
    }),
  );
  reusePreparedStatements(reader);

  const tables = schema.tables('sqlite');
  const writerDb = drizzle({ client: writer });
  const readerDb = drizzle({ client: reader });
  // The same builder calls as on Postgres (db-handle.ts): typed once, for module code.
  const writeDb = writerDb as unknown as Db;
  const readDb = readerDb as unknown as Db;
  const folder = migrationsFolder(schema, 'sqlite');

  let closed = false;

  function transaction<R>(fn: (tx: Db) => Promise<R>): Promise<R> {
    // Once close() is letting go of the writer: refused here, as on Postgres, rather than by
    // the closed connection.
    if (closed) return Promise.reject(new StoreClosed());
    // A unit that has ended is no longer open: work it started (a timer, a poller) may open its own.
    const outer = inside.getStore();
    if (outer !== undefined && committer.isRunning(outer)) return Promise.reject(new NestedTransactionError(schema.module));
    // Promise.resolve takes up a thenable (a drizzle query returned as it is) inside the unit's
    // context: left to the promise that runs the unit, drizzle would run it outside.
    const done = committer.run((unit) => inside.run(unit, () => Promise.resolve(fn(writeDb))));
    // Until a commit writes to the WAL there is nothing to checkpoint in the background.
    if (checkpoints.waiting) void done.then(checkpoints.committed, checkpoints.committed);
    return done;
  }

  return {
    module: schema.module,
    tables,
    db: readDb,
    engine: { dialect: 'sqlite', writer: writerDb, reader: readerDb },
    platform: sqlitePlatformStatements(tables, writeDb, readDb),
    transaction,
    // The unit of work holds the write lock (BEGIN IMMEDIATE): nobody can change the row meanwhile.
    forUpdate: (query) => query,
    writeStatement: (fn) => transaction(fn),
    async pendingMigrations() {
      const total = migrationCount(folder);
      const exists = reader
        .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`)
        .get(MIGRATIONS_TABLE);
      if (!exists) return total;
      const row = reader.prepare(`SELECT count(*) AS n FROM ${MIGRATIONS_TABLE}`).get() as { n: number };
      return Math.max(0, total - row.n);
    },
    async ping() {
      reader.prepare('SELECT 1').get();
    },
    async close() {
      // Wait for the unit of work in progress, if any, then close the checkpointer's connection
      // and the reader before the writer, so the writer's close (the last) can checkpoint the WAL.
      await committer.idle();
      await checkpoints.stop();
      // A unit may have been queued while the checkpointer let go: let it finish too. None after
      // it: a unit queued once the writer is closing would fail on the closed connection.
      closed = true;
      await committer.idle();
      reader.close();
      writer.close();
    },
  };
}

/**
 * drizzle prepares every query anew, and better-sqlite3's prepare was the largest single cost of
 * a simple read in the kernel bench profile. Statements are reused per SQL text instead. drizzle
 * switches a statement to raw (array) rows for some calls and not for others, so each reuse
 * starts from object rows, as a fresh statement would.
 */
function reusePreparedStatements(db: Database.Database, made?: (stmt: Database.Statement) => void, max = 256): void {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  (db as { prepare: (source: string) => Database.Statement }).prepare = (source: string) => {
    let stmt = cache.get(source);
    if (!stmt) {
      stmt = prepare(source);
      made?.(stmt);
      cache.set(source, stmt);
      if (cache.size > max) cache.delete(cache.keys().next().value!);
    } else if (stmt.reader) {
      stmt.raw(false);
    }
    return stmt;
  };
}

// Transaction control counts as a write here: SQLite calls it read-only (it changes no page).
const TRANSACTION_KEYWORD = /(?:BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/iy;

/**
 * Whether `source` is a transaction-control statement, past the whitespace and comments SQLite
 * skips before its first keyword. A scan rather than one pattern: a pattern for "any run of
 * spaces and comments" backtracks exponentially on a long run of spaces before another keyword.
 */
function isTransactionControl(source: string): boolean {
  let i = 0;
  for (;;) {
    const c = source.charCodeAt(i);
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) i++;
    else if (source.startsWith('--', i)) {
      const end = source.indexOf('\n', i);
      if (end < 0) return false;
      i = end + 1;
    } else if (source.startsWith('/*', i)) {
      const end = source.indexOf('*/', i + 2);
      if (end < 0) return false;
      i = end + 2;
    } else break;
  }
  TRANSACTION_KEYWORD.lastIndex = i;
  return TRANSACTION_KEYWORD.test(source);
}

/**
 * Lets `stmt` run only for the unit of work running now (`caller` answers its token). Otherwise a
 * read runs only while no transaction is open on the writer (it then sees committed data alone,
 * as preparedRead's reads on the writer do); a write is refused. Every statement on the writer,
 * drizzle's and the prepared ones alike, is made through `prepare`, and runs through these four.
 *
 * Once a statement of the running unit has left the writer outside a transaction (an I/O or
 * disk-full error made SQLite roll it back, and the unit caught the error), the unit's later
 * statements fail: they would be autocommitted, though the unit will be reported failed. That is
 * looked at after a write or a failure only (a cursor's steps included), and a read from outside
 * a unit asks the committer first: `inTransaction` costs ~130 ns a call, a third of a point read.
 * A write that succeeds does not end the transaction itself, but the check after it also finds a
 * transaction that ended on a path no statement of the guard's saw (the writer's `exec`).
 */
function guardWriterStatement(stmt: Database.Statement, committer: GroupCommitter, caller: () => UnitToken | 'outside' | 'ended'): void {
  const readonly = stmt.readonly && !isTransactionControl(stmt.source);
  const writer = stmt.database;
  const s = stmt as unknown as Record<'run' | 'get' | 'all' | 'iterate', (...args: unknown[]) => unknown>;
  for (const method of ['run', 'get', 'all', 'iterate'] as const) {
    const call = s[method]!;
    s[method] = (...args: unknown[]) => {
      const unit = caller();
      if (typeof unit === 'string') {
        if (readonly && (!committer.mayBeInTransaction || !writer.inTransaction)) return call.apply(stmt, args);
        throw new OutsideUnitOfWork(unit);
      }
      if (transactionEnded.has(unit)) throw new TransactionLost(new Error('an earlier statement of this unit of work ended its transaction'));
      let failed = true;
      try {
        const result = call.apply(stmt, args);
        failed = false;
        if (method === 'iterate') return openCursor(unit, result as IterableIterator<unknown>, writer);
        return result;
      } finally {
        if ((failed || !readonly) && !writer.inTransaction) transactionEnded.add(unit);
      }
    };
  }
}

/** Units a statement of which left the writer outside a transaction. */
const transactionEnded = new WeakSet<UnitToken>();

/**
 * The cursors (`iterate`) each unit opened on the writer, closed as the unit ends. One left open
 * keeps every statement after it (the unit's RELEASE, its group's COMMIT, the ROLLBACK of a unit
 * that timed out) from running on that connection.
 */
const cursors = new WeakMap<UnitToken, IterableIterator<unknown>[]>();

/** Records a unit's cursor, whose steps are watched as its statements are: a step can fail too. */
function openCursor(unit: UnitToken, cursor: IterableIterator<unknown>, writer: Database.Database): IterableIterator<unknown> {
  const watched: IterableIterator<unknown> = {
    next() {
      try {
        return cursor.next();
      } catch (err) {
        if (!writer.inTransaction) transactionEnded.add(unit);
        throw err;
      }
    },
    return(value?: unknown) {
      return cursor.return?.(value) ?? { done: true, value };
    },
    [Symbol.iterator]() {
      return this;
    },
  };
  const open = cursors.get(unit);
  if (open) open.push(watched);
  else cursors.set(unit, [watched]);
  return watched;
}

function closeCursors(unit: UnitToken): void {
  const open = cursors.get(unit);
  if (open === undefined) return;
  for (const cursor of open) cursor.return?.();
  cursors.delete(unit);
}
