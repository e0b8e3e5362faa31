// The outbox is where an event waits to be sent; once sent, a row has done its job, unless its
// module replays it (orders rebuilds its history from its own events). Kept forever, every event
// ever published stays on disk. So the kernel prunes each store's sent rows once they are older
// than the retention, except the types its module declares it keeps (`keepsEvents`).
//
// The pass walks the table in `seq` order from where the last pass stopped, reading only the
// columns it decides on, and stops at the first row still due to be sent or younger than the
// cut-off: each pass costs what became prunable since the last one, not what the table holds. Kept
// rows it walks past are not read again until the process restarts (the mark lives in memory; a
// restart's first pass walks the kept rows once). A row not yet sent is never pruned, however old.
// A row still uncommitted is not seen, but a row after it in `seq` order was written after it, so
// it is younger than the cut-off too unless a unit of work stayed open for the whole retention.
import { asc, gt, inArray } from 'drizzle-orm';
import type { ModuleStore } from '../data/module-store.ts';
import { fixedLimit } from '../data/planned-once.ts';

/** Rows read, and deleted in one unit of work, at a time: short units, so live writes never wait long. */
const BATCH = 500;

export interface OutboxRetention {
  /** Deletes the sent rows created before `before` that are not of a kept type; resolves to how many. */
  prune(before: Date): Promise<number>;
}

export function outboxRetention(store: ModuleStore, keptTypes: readonly string[]): OutboxRetention {
  const kept = new Set(keptTypes);
  const o = store.tables.outbox;
  /** Every row up to here has been pruned or is of a kept type. */
  let mark = 0;
  return {
    async prune(before) {
      let pruned = 0;
      for (;;) {
        const rows = await store.db
          .select({ seq: o.seq, type: o.type, createdAt: o.createdAt, dispatchedAt: o.dispatchedAt })
          .from(o)
          .where(gt(o.seq, mark))
          .orderBy(asc(o.seq))
          .limit(fixedLimit(BATCH));
        const doomed: number[] = [];
        let passed = mark;
        let stop = rows.length < BATCH;
        for (const row of rows) {
          if (row.dispatchedAt === null || row.createdAt >= before) {
            stop = true;
            break;
          }
          if (!kept.has(row.type)) doomed.push(row.seq);
          passed = row.seq;
        }
        if (doomed.length > 0) {
          // One DELETE, atomic by itself: on Postgres without a BEGIN/COMMIT around it.
          await store.writeStatement((db) => db.delete(o).where(inArray(o.seq, doomed)));
          pruned += doomed.length;
        }
        mark = passed;
        if (stop) return pruned;
      }
    },
  };
}
