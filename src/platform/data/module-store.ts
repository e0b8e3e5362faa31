import type { Dialect, PlatformTables } from './schema-kit.ts';
import type { PlatformStatements } from './platform-statements.ts';
import type { Db } from './db-handle.ts';

export type StoreTables = PlatformTables & Record<string, unknown>;

export type { Db } from './db-handle.ts';

/** T is the full table set: the module's own tables and the platform's. */
export interface ModuleStore<T extends PlatformTables = StoreTables> {
  readonly module: string;
  readonly dialect: Dialect;
  readonly tables: T;
  /** For reads. On SQLite this connection refuses writes: every write goes through `transaction`. */
  readonly db: Db;
  /** The bus's per-event statements on the platform tables, made for this store's engine. */
  readonly platform: PlatformStatements;
  /**
   * Runs `fn` as one atomic unit of work: all of it commits or none of it does, and the promise
   * settles only once that is decided. Two calls never interleave: on SQLite they run one after
   * the other on the module's single writer connection (those that queue up meanwhile share one
   * COMMIT, each in its own savepoint, so one failing leaves the others intact; see
   * group-commit.ts); on Postgres each takes its own pooled connection. Keep the callback to
   * database work: on SQLite, awaiting something slow inside it delays every unit queued behind,
   * and awaiting another unit of work's promise inside it never ends (that one settles only at
   * the commit this one holds up).
   */
  transaction<R>(fn: (tx: Db) => Promise<R>): Promise<R>;
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
