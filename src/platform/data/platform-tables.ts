// Tables every module store carries, so a module's events and idempotency records commit in the
// same local transaction as its state and leave with the module when it is extracted.
import { sql } from 'drizzle-orm';
import type { SchemaKit } from './column-kits.ts';

export interface StoredEnvelope {
  id: string;
  type: string;
  version: number;
  source: string;
  occurredAt: string;
  correlationId: string;
  causationId?: string;
  traceparent?: string;
  payload: unknown;
}

export function platformTables(k: SchemaKit) {
  return {
    outbox: k.table(
      'platform_outbox',
      {
        seq: k.sequence('seq'),
        id: k.text('id').notNull().unique(),
        type: k.text('type').notNull(),
        envelope: k.json<StoredEnvelope>('envelope').notNull(),
        createdAt: k.timestamp('created_at').notNull(),
        dispatchedAt: k.timestamp('dispatched_at'),
      },
      // Only the rows still to send, in send order: the relay's read costs what is pending, not
      // what the table holds (sent rows stay until the retention prunes them: bus/outbox-retention.ts).
      // A row's dispatched version is not in it; on Postgres its earlier version's entry stays
      // until a vacuum, and the index scan marks it dead the first time it passes. Over
      // (dispatched_at, seq), Postgres's generic plan walked the primary key past every dispatched
      // row and its bitmap scan re-read every dead entry: 3-10 ms a read at ten thousand rows,
      // growing with the table (decision 23).
      (t) => [k.index('platform_outbox_undispatched_idx').on(t.seq).where(sql`${t.dispatchedAt} is null`)],
    ),
    inbox: k.table(
      'platform_inbox',
      {
        eventId: k.text('event_id').notNull(),
        handler: k.text('handler').notNull(),
        handledAt: k.timestamp('handled_at').notNull(),
      },
      // The retention's sweep finds the rows handled before its bound through the index, in what
      // is due, rather than reading the whole inbox on every pass (delete-in-batches.ts).
      (t) => [k.primaryKey({ columns: [t.eventId, t.handler] }), k.index('platform_inbox_handled_at_idx').on(t.handledAt)],
    ),
    deadLetters: k.table(
      'platform_dead_letters',
      {
        seq: k.sequence('seq'),
        eventId: k.text('event_id').notNull(),
        handler: k.text('handler').notNull(),
        envelope: k.json<StoredEnvelope>('envelope').notNull(),
        reason: k.text('reason').notNull(),
        attempts: k.int('attempts').notNull(),
        createdAt: k.timestamp('created_at').notNull(),
        replayedAt: k.timestamp('replayed_at'),
      },
      // One row per event and handler: writing it again (a crash between write and ack) is a no-op.
      (t) => [k.uniqueIndex('platform_dead_letters_event_handler_idx').on(t.eventId, t.handler)],
    ),
    idempotencyKeys: k.table(
      'platform_idempotency_keys',
      {
        scope: k.text('scope').notNull(),
        key: k.text('key').notNull(),
        requestHash: k.text('request_hash').notNull(),
        status: k.int('status'),
        response: k.json<unknown>('response'),
        headers: k.json<Record<string, string>>('headers'),
        createdAt: k.timestamp('created_at').notNull(),
        expiresAt: k.timestamp('expires_at').notNull(),
      },
      // The sweep runs every minute: through the index it reads the expired keys, not every key
      // (a day's at the default TTL), and on SQLite it holds the writer while it reads. Keys are
      // written in expiry order, so the index grows at its right edge, a page shared by a commit.
      (t) => [k.primaryKey({ columns: [t.scope, t.key] }), k.index('platform_idempotency_keys_expires_at_idx').on(t.expiresAt)],
    ),
  };
}
