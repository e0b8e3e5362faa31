import { defineSchema } from '../../../platform/data/schema-kit.ts';
import type { AccountEvent, AccountState } from '../domain/account.ts';

export const paymentsSchema = defineSchema('payments', (k) => ({
  // The source of truth: append-only, one stream per account, versions without gaps.
  accountEvents: k.table(
    'account_events',
    {
      seq: k.sequence('seq'),
      accountId: k.text('account_id').notNull(),
      version: k.int('version').notNull(),
      type: k.text('type').notNull(),
      data: k.json<AccountEvent>('data').notNull(),
      occurredAt: k.timestamp('occurred_at').notNull(),
    },
    // Two writers appending the same version: one wins, the other retries on fresh state.
    (t) => [k.uniqueIndex('account_events_stream_idx').on(t.accountId, t.version)],
  ),
  snapshots: k.table(
    'account_snapshots',
    {
      accountId: k.text('account_id').notNull(),
      version: k.int('version').notNull(),
      state: k.json<AccountState>('state').notNull(),
      lastEventAt: k.timestamp('last_event_at').notNull(),
    },
    (t) => [k.primaryKey({ columns: [t.accountId, t.version] })],
  ),
}));

export type PaymentsTables = ReturnType<typeof paymentsSchema.tables>;
