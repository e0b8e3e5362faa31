import { defineSchema } from '../../../platform/data/schema-kit.ts';
import type { OrderLine, OrderStatus } from '../domain/order.ts';
import type { SagaStep } from '../domain/saga.ts';

export const ordersSchema = defineSchema('orders', (k) => ({
  // The write model.
  orders: k.table(
    'orders',
    {
      id: k.text('id').primaryKey(),
      customerId: k.text('customer_id').notNull(),
      status: k.text('status').$type<OrderStatus>().notNull(),
      reason: k.text('reason'),
      lines: k.json<OrderLine[]>('lines').notNull(),
      totalMinor: k.bigint('total_minor').notNull(),
      currency: k.text('currency').notNull(),
      paymentMethod: k.text('payment_method').notNull(),
      createdAt: k.timestamp('created_at').notNull(),
      updatedAt: k.timestamp('updated_at').notNull(),
    },
    (t) => [k.index('orders_customer_idx').on(t.customerId, t.createdAt)],
  ),
  // The orchestrator's persisted state: what is left to do, and why if compensating.
  sagas: k.table(
    'sagas',
    {
      orderId: k.text('order_id').primaryKey(),
      plan: k.json<SagaStep[]>('plan').notNull(),
      reason: k.text('reason'),
      attempts: k.int('attempts').notNull(),
      nextAttemptAt: k.timestamp('next_attempt_at').notNull(),
      leaseUntil: k.timestamp('lease_until'),
      leaseOwner: k.text('lease_owner'),
      // The placing request's ids: every step runs under them, whoever drives the saga.
      correlationId: k.text('correlation_id'),
      traceparent: k.text('traceparent'),
      lastError: k.text('last_error'),
      startedAt: k.timestamp('started_at').notNull(),
      updatedAt: k.timestamp('updated_at').notNull(),
      done: k.bool('done').notNull(),
    },
    (t) => [k.index('sagas_due_idx').on(t.done, t.nextAttemptAt)],
  ),
  // The read model: built only from events, rebuildable from scratch.
  history: k.table(
    'order_history',
    {
      orderId: k.text('order_id').primaryKey(),
      customerId: k.text('customer_id').notNull(),
      status: k.text('status').$type<OrderStatus>().notNull(),
      reason: k.text('reason'),
      itemCount: k.int('item_count'),
      totalMinor: k.bigint('total_minor').notNull(),
      currency: k.text('currency').notNull(),
      placedAt: k.timestamp('placed_at'),
      updatedAt: k.timestamp('updated_at').notNull(),
    },
    (t) => [k.index('order_history_customer_idx').on(t.customerId, t.placedAt)],
  ),
}));

export type OrdersTables = ReturnType<typeof ordersSchema.tables>;

/** An order as its row stands. */
export type OrderRecord = OrdersTables['orders']['$inferSelect'];
export type SagaRow = OrdersTables['sagas']['$inferSelect'];
