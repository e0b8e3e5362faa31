import { defineSchema } from '../../../platform/data/schema-kit.ts';

export const notificationsSchema = defineSchema('notifications', (k) => ({
  notifications: k.table(
    'notifications',
    {
      // The id of the event that caused it: one message per event, whatever the redeliveries.
      id: k.text('id').primaryKey(),
      audience: k.text('audience').$type<'customer' | 'operations'>().notNull(),
      recipient: k.text('recipient').notNull(),
      kind: k.text('kind').notNull(),
      subject: k.text('subject').notNull(),
      body: k.text('body').notNull(),
      orderId: k.text('order_id'),
      occurredAt: k.timestamp('occurred_at').notNull(),
      createdAt: k.timestamp('created_at').notNull(),
    },
    (t) => [k.index('notifications_recipient_idx').on(t.audience, t.recipient, t.occurredAt)],
  ),
}));

export type NotificationsTables = ReturnType<typeof notificationsSchema.tables>;
