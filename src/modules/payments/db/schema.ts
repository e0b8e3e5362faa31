import { defineSchema } from '../../../platform/data/schema-kit.ts';
import { jsonText } from '../../../platform/data/json-text.ts';
import type { AccountEvent, AccountState } from '../domain/account.ts';

/** The index that lets one writer append a version of an account's stream (event-store.ts). */
export const STREAM_INDEX = 'account_events_stream_idx';

export const paymentsSchema = defineSchema('payments', (k) => {
  /** An account's state as of a version: a load reads the latest and replays the events after it. */
  const snapshotTable = <State>(name: string) =>
    k.table(
      name,
      {
        accountId: k.text('account_id').notNull(),
        version: k.int('version').notNull(),
        state: k.json<State>('state').notNull(),
        lastEventAt: k.timestamp('last_event_at').notNull(),
      },
      (t) => [k.primaryKey({ columns: [t.accountId, t.version] })],
    );
  return {
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
      (t) => [
        // Two writers appending the same version: one wins, the other retries on fresh state.
        k.uniqueIndex(STREAM_INDEX).on(t.accountId, t.version),
        // A charge or refund reads its order's events by the order id inside them (forOrder in event-store.ts).
        k.index('account_events_order_idx').on(t.accountId, jsonText(t.data, 'orderId')),
      ],
    ),
    // The account's summary (domain/account.ts), every SNAPSHOT_EVERY events.
    snapshots: snapshotTable<AccountState>('account_summaries'),
    // Snapshots of the earlier, unbounded account state (every payment it took): written and read
    // only by versions before account_summaries, kept so they run on beside this one during a
    // rolling upgrade. Nothing here reads it; a later release drops it.
    retiredSnapshots: snapshotTable<unknown>('account_snapshots'),
  };
});

export type PaymentsTables = ReturnType<typeof paymentsSchema.tables>;
