// The statements the bus runs for every event on the platform's own tables: the outbox insert,
// the inbox claim, the relay's read of pending rows and its "dispatched" mark. Each engine has one
// implementation, made with the store and built once, since building them with drizzle on every
// call was most of the bus's own cost: prepared on SQLite's writer and reader
// (sqlite-platform-statements.ts), named statements run on each unit's own connection on Postgres
// (pg-platform-statements.ts).
import type { Db } from './db-handle.ts';
import type { StoredEnvelope } from './platform-tables.ts';

export interface OutboxRow {
  id: string;
  type: string;
  envelope: StoredEnvelope;
  createdAt: Date;
}

export interface InboxClaim {
  eventId: string;
  handler: string;
}

export interface PendingOutboxRow {
  seq: number;
  type: string;
  envelope: StoredEnvelope;
}

export interface PlatformStatements {
  /** Inside a unit of work: `tx` is its handle. */
  appendOutbox(tx: Db, row: OutboxRow): Promise<void>;
  /**
   * Inside a unit of work: claims each `(eventId, handler)` in one statement on Postgres (one
   * round trip for a broker job's events). Answers, in the order given, true for a new claim and
   * false for one made before, or made by an earlier entry of `claims`.
   */
  claimInbox(tx: Db, claims: readonly InboxClaim[], at: Date): Promise<boolean[]>;
  /** Committed rows not yet dispatched, oldest first (read handle). */
  pendingOutbox(limit: number): Promise<PendingOutboxRow[]>;
  /** Inside a unit of work. */
  markDispatched(tx: Db, seqs: readonly number[], at: Date): Promise<void>;
}
