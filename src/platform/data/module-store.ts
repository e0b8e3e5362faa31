import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { PlatformTables } from './schema-kit.ts';
import type { PlatformStatements } from './platform-statements.ts';
import type { Db } from './db-handle.ts';

export type StoreTables = PlatformTables & Record<string, unknown>;

export type { Db } from './db-handle.ts';

/** A select that can lock the rows it reads (drizzle's `.for('update')` on Postgres). */
export interface LockableQuery<R> extends PromiseLike<R> {
  for(strength: 'update'): PromiseLike<R>;
}

/** The engine under a store, for platform code (migrations, the bus's prepared statements); modules never need it. */
export type StoreEngine =
  | { readonly dialect: 'sqlite'; readonly writer: BetterSQLite3Database; readonly reader: BetterSQLite3Database }
  | {
      readonly dialect: 'pg';
      readonly pool: NodePgDatabase;
      /** Where prepared reads go, side by side with the store's others (pg-read-group.ts). */
      readonly reads: { query(config: unknown, values?: unknown[]): Promise<unknown> };
    };

/** T is the full table set: the module's own tables and the platform's. */
export interface ModuleStore<T extends PlatformTables = StoreTables> {
  readonly module: string;
  readonly tables: T;
  /** For reads. On SQLite this connection refuses writes: every write goes through `transaction`. */
  readonly db: Db;
  /** The bus's per-event statements on the platform tables, made for this store's engine. */
  readonly platform: PlatformStatements;
  readonly engine: StoreEngine;
  /**
   * Runs `fn` as one atomic unit of work: all of it commits or none of it does, and the promise
   * settles only once that is decided. Two calls never interleave: on SQLite they run one after
   * the other on the module's single writer connection (those that queue up meanwhile share one
   * COMMIT, each in its own savepoint, so one failing leaves the others intact; see
   * group-commit.ts); on Postgres each takes its own pooled connection when it first sends a
   * statement (one whose writes are all held takes none: its commit group sends them). Keep the callback to
   * database work: on SQLite, awaiting something slow inside it delays every unit queued behind,
   * and awaiting another unit of work's promise inside it cannot end (that one settles only at
   * the commit this one holds up). On either engine a callback that runs past the store's time
   * limit (30 s by default) fails its unit with UnitTimedOut, and nothing of it is kept. Nor let work that uses `tx` outlive the callback: its statements are then refused
   * (OutsideUnitOfWork). A statement is the unit's when it runs in the callback's async context:
   * a listener the callback registers on an emitter or a stream made outside it runs in the
   * emitter's, and must be bound to the unit (AsyncResource.bind) to use `tx`.
   */
  transaction<R>(fn: (tx: Db) => Promise<R>): Promise<R>;
  /**
   * A read-modify-write inside a unit of work must not lose a concurrent update: the rows `query`
   * reads stay locked until the unit of work ends (SELECT … FOR UPDATE on Postgres; on SQLite the
   * unit of work already holds the database's write lock, so the query runs as it is).
   */
  forUpdate<R>(query: LockableQuery<R>): PromiseLike<R>;
  /**
   * One write statement, atomic by itself, outside any unit of work (a conditional UPDATE that
   * claims a row, say). On Postgres it runs without BEGIN/COMMIT around it — two round trips
   * fewer; on SQLite it goes through the writer (and its group commit) like any write.
   */
  writeStatement<R>(fn: (db: Db) => Promise<R>): Promise<R>;
  /** How many of this module's migrations are not applied yet. */
  pendingMigrations(): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class NestedTransactionError extends Error {
  constructor(module: string) {
    super(`A ${module} transaction was opened inside another one; pass the outer transaction's handle instead`);
  }
}

/** What a read or a unit of work waiting for a connection, or asked for after, meets once its store has closed. */
export class StoreClosed extends Error {
  override name = 'StoreClosed';
  constructor() {
    super('the store is closed');
  }
}

/**
 * A statement through a unit of work's `tx` from work that is not that unit's: work the unit left
 * running after its callback settled, or code outside any unit. It would run outside the unit's
 * transaction, or inside another unit's.
 */
export class OutsideUnitOfWork extends Error {
  override name = 'OutsideUnitOfWork';
  constructor(why: 'outside' | 'ended') {
    super(
      why === 'ended'
        ? "this unit of work has ended (its callback settled or it timed out): a statement from work it left running is refused, as it would run outside any unit or inside another's"
        : 'a statement outside any unit of work is refused here: writes go through store.transaction. A callback a unit registers on an emitter or a stream made outside it runs outside it: bind it to the unit (AsyncResource.bind)',
    );
  }
}

/** A unit of work whose callback ran past its store's time limit: it failed and nothing of it was kept. */
export class UnitTimedOut extends Error {
  override name = 'UnitTimedOut';
  constructor(ms: number) {
    super(
      `the unit of work ran for more than ${ms} ms and was rolled back: a unit holds its store's writer or one of its connections, so it must not wait on slow work, ` +
        `nor on another unit of work's promise (on SQLite that one settles only once this one's group commits)`,
    );
  }
}
