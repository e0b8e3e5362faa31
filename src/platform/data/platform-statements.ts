// The statements the bus runs for every event on the platform's own tables: the outbox insert,
// the inbox claim, the relay's read of pending rows and its "dispatched" mark. Each engine has one
// implementation, made with the store: on SQLite they are prepared once (sqlite-platform-statements.ts),
// since building and preparing them with drizzle on every call was most of the bus's own cost; on
// Postgres they are built per call (a drizzle prepared query is bound to the handle that built it,
// and each transaction has its own). Module code keeps using drizzle's builder.
import { asc, inArray, isNull } from 'drizzle-orm';
import type { Db } from './db-handle.ts';
import type { PlatformTables } from './schema-kit.ts';
import type { StoredEnvelope } from './platform-tables.ts';

export interface OutboxRow {
  id: string;
  type: string;
  envelope: StoredEnvelope;
  createdAt: Date;
}

export interface PendingOutboxRow {
  seq: number;
  type: string;
  envelope: StoredEnvelope;
}

export interface PlatformStatements {
  /** Inside a unit of work: `tx` is its handle. */
  appendOutbox(tx: Db, row: OutboxRow): Promise<void>;
  /** Inside a unit of work: false when `(eventId, handler)` was claimed before. */
  claimInbox(tx: Db, eventId: string, handler: string, at: Date): Promise<boolean>;
  /** Committed rows not yet dispatched, oldest first (read handle). */
  pendingOutbox(limit: number): Promise<PendingOutboxRow[]>;
  /** Inside a unit of work. */
  markDispatched(tx: Db, seqs: readonly number[], at: Date): Promise<void>;
}

/** The statements built with drizzle's builder on each call, on whatever handle is given. */
export function builtPlatformStatements(t: PlatformTables, readDb: Db): PlatformStatements {
  const { outbox, inbox } = t;
  return {
    async appendOutbox(tx, row) {
      await tx.insert(outbox).values(row);
    },
    async claimInbox(tx, eventId, handler, at) {
      const claimed = await tx.insert(inbox).values({ eventId, handler, handledAt: at }).onConflictDoNothing().returning({ eventId: inbox.eventId });
      return claimed.length > 0;
    },
    async pendingOutbox(limit) {
      return readDb
        .select({ seq: outbox.seq, type: outbox.type, envelope: outbox.envelope })
        .from(outbox)
        .where(isNull(outbox.dispatchedAt))
        .orderBy(asc(outbox.seq))
        .limit(limit);
    },
    async markDispatched(tx, seqs, at) {
      await tx.update(outbox).set({ dispatchedAt: at }).where(inArray(outbox.seq, [...seqs]));
    },
  };
}
