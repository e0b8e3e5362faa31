// The outbox is where an event waits to be sent; once sent, a row has done its job, unless its
// module replays it (orders rebuilds its history from its own events). Kept forever, every event
// ever published stays on disk. So the kernel prunes each store's sent rows once they were
// written longer than the retention ago, except the types its module declares it keeps
// (`keepsEvents`); a module that keeps every event it publishes gets no pass at all.
//
// The pass walks the table in `seq` order from where the last pass stopped, reading only the
// columns it decides on, and stops at the first row still due to be sent or younger than the
// cut-off: each pass costs what became prunable since the last one, not what the table holds. Kept
// rows it walks past are not read again until the process restarts (the mark lives in memory; a
// restart's first pass walks the kept rows once). A row not yet sent is never pruned, however old.
// A row still uncommitted is not seen; on Postgres, where units commit out of `seq` order, one that
// commits after the pass walked past its `seq` waits for the next restart. Only a unit of work open
// for the whole retention can leave such a row behind an old enough one.
import { and, asc, gt, isNotNull, lt, lte, notInArray } from 'drizzle-orm';
import type { ModuleStore } from '../data/module-store.ts';
import { fixedLimit } from '../data/planned-once.ts';

/** Rows read, and deleted in one statement, at a time: short writes, so live ones never wait long. */
const BATCH = 500;

export interface OutboxRetention {
  /**
   * Deletes the sent rows written before `before` that are not of a kept type; resolves to how
   * many. Once `stopping` is aborted no further batch starts: the rest waits for the next pass.
   */
  prune(before: Date, stopping?: AbortSignal): Promise<number>;
}

export function outboxRetention(store: ModuleStore, keptTypes: readonly string[]): OutboxRetention {
  const kept = new Set(keptTypes);
  const o = store.tables.outbox;
  /** Every row up to here has been pruned or is of a kept type. */
  let mark = 0;
  return {
    async prune(before, stopping) {
      if (Number.isNaN(before.getTime())) throw new RangeError('outbox retention: the cut-off is not a date');
      let pruned = 0;
      while (!stopping?.aborted) {
        const rows = await store.db
          .select({ seq: o.seq, type: o.type, createdAt: o.createdAt, dispatchedAt: o.dispatchedAt })
          .from(o)
          .where(gt(o.seq, mark))
          .orderBy(asc(o.seq))
          .limit(fixedLimit(BATCH));
        let passed = mark;
        let doomed = 0;
        let stop = rows.length < BATCH;
        for (const row of rows) {
          if (row.dispatchedAt === null || !(row.createdAt.getTime() < before.getTime())) {
            stop = true;
            break;
          }
          if (!kept.has(row.type)) doomed++;
          passed = row.seq;
        }
        if (doomed > 0) {
          // One statement of one shape for the whole range walked, atomic by itself (on Postgres
          // without a BEGIN/COMMIT around it), that says again what may go: a row is deleted only
          // if it is sent, old enough and not kept, whatever the walk read.
          const gone = await store.writeStatement((db) =>
            db
              .delete(o)
              .where(and(gt(o.seq, mark), lte(o.seq, passed), isNotNull(o.dispatchedAt), lt(o.createdAt, before), kept.size ? notInArray(o.type, [...kept]) : undefined))
              .returning({ seq: o.seq }),
          );
          pruned += gone.length;
        }
        mark = passed;
        if (stop) return pruned;
      }
      return pruned;
    },
  };
}
