// Housekeeping deletes (expired idempotency keys, old inbox rows) remove whatever became due since
// the last pass, and after an outage or a retention change that can be millions of rows. One
// statement for all of them would be one long write: on SQLite it holds the writer, and every
// unit of work queues behind it; on Postgres it holds its locks and bloats one transaction. So
// the rows go a bounded batch at a time, each batch one statement atomic by itself, the same way
// the outbox retention (bus/outbox-retention.ts) and the history rebuild walk their tables.
import { and, sql, type SQL } from 'drizzle-orm';
import type { AnyColumn } from 'drizzle-orm';
import type { Db, ModuleStore } from './module-store.ts';
import { fixedLimit } from './planned-once.ts';

/** Rows deleted by one statement: short writes, so live ones never wait long behind a sweep. */
export const DELETE_BATCH = 500;

export interface BatchedDelete {
  /** Rows a statement deletes at most; DELETE_BATCH unless given. */
  batch?: number;
  /** Once aborted, no further statement starts: the rows still due wait for the next sweep. */
  signal?: AbortSignal;
}

/**
 * Deletes the rows of `table` that `due` selects, at most `batch` per statement, until none is
 * left or `signal` is aborted; resolves to how many went. `key` is the table's primary key: each
 * statement deletes the rows whose key is among the first `batch` due ones, and says `due` again,
 * so a row that stopped being due in between stays. A row that becomes due while the sweep runs
 * may go in this sweep or the next.
 */
export async function deleteInBatches(store: ModuleStore, table: Parameters<Db['delete']>[0], key: readonly AnyColumn[], due: SQL, { batch = DELETE_BATCH, signal }: BatchedDelete = {}): Promise<number> {
  if (!Number.isSafeInteger(batch) || batch < 1) throw new RangeError(`a delete batch is a whole number of rows above 0, not ${batch}`);
  if (key.length === 0) throw new RangeError('a batched delete needs the key of the rows it deletes');
  const tuple = sql.join([...key], sql`, `);
  // Row values, `(a, b) in (select a, b …)`, run on both engines (SQLite since 3.15).
  const first = sql`(${tuple}) in (select ${tuple} from ${table} where ${due} limit ${fixedLimit(batch)})`;
  let deleted = 0;
  while (!signal?.aborted) {
    const gone = await store.writeStatement((db) =>
      db
        .delete(table)
        .where(and(due, first))
        .returning({ one: sql<number>`1` }),
    );
    deleted += gone.length;
    // The event loop turns between two batches: on Postgres each comes back over the socket, and
    // SQLite's group commit waits for a turn between groups, so requests are read meanwhile.
    if (gone.length < batch) return deleted;
  }
  return deleted;
}
