// The order-history read model. It is fed only by orders' events and tolerates duplicates
// (the inbox) and out-of-order arrival: one upsert per event, merged in SQL so that a terminal
// status is never overwritten by PENDING, each event fills only what it knows, and the newest
// timestamp wins. A single statement also means concurrent deliveries cannot race on the row.
import type { Db } from '../../../platform/data/module-store.ts';
import type { EventEnvelope } from '../../../platform/bus/envelope.ts';
import type { OrderStatus } from '../domain/order.ts';
import type { OrderStatements } from '../db/order-writes.ts';
import { OrderCancelled, OrderConfirmed, OrderPlaced } from '../events.ts';

type Payload = {
  orderId: string;
  customerId: string;
  totalMinor: number;
  currency: string;
  reason?: string;
  lines?: { quantity: number }[];
  placedAt?: string;
};

const statusOf: Record<string, OrderStatus> = { [OrderPlaced.type]: 'PENDING', [OrderConfirmed.type]: 'CONFIRMED', [OrderCancelled.type]: 'CANCELLED' };

/** The events the projection is made of: what a rebuild replays from the outbox, which keeps them. */
export const historyEvents = [OrderPlaced, OrderConfirmed, OrderCancelled];

/**
 * Merges one event into the history row (the upsert is orders' `projectHistory` statement, built
 * once: order-writes.ts).
 */
export async function projectOrderEvent(db: Db, statements: Pick<OrderStatements, 'projectHistory'>, envelope: Pick<EventEnvelope, 'type' | 'occurredAt' | 'payload'>): Promise<void> {
  const status = statusOf[envelope.type];
  if (!status) return;
  const p = envelope.payload as Payload;
  await statements.projectHistory.later(db, {
    orderId: p.orderId,
    customerId: p.customerId,
    status,
    reason: status === 'CANCELLED' ? (p.reason ?? null) : null,
    itemCount: p.lines ? p.lines.reduce((n, l) => n + l.quantity, 0) : null,
    totalMinor: p.totalMinor,
    currency: p.currency,
    placedAt: p.placedAt ? new Date(p.placedAt) : null,
    updatedAt: new Date(envelope.occurredAt),
  });
}
