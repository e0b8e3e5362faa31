// The order-history read model (Q20). It is fed only by orders' events, tolerates duplicates
// (the inbox) and out-of-order arrival (a terminal status is never overwritten by PENDING, and
// each event fills only what it knows), and is rebuilt from scratch by replaying the same events.
import { eq } from 'drizzle-orm';
import type { Db } from '../../../platform/data/module-store.ts';
import type { EventEnvelope } from '../../../platform/bus/envelope.ts';
import { laterStatus, type OrderStatus } from '../domain/order.ts';
import type { OrdersTables } from '../db/schema.ts';

type Payload = {
  orderId: string;
  customerId: string;
  totalMinor: number;
  currency: string;
  reason?: string;
  lines?: { quantity: number }[];
  placedAt?: string;
};

const statusOf: Record<string, OrderStatus> = { OrderPlaced: 'PENDING', OrderConfirmed: 'CONFIRMED', OrderCancelled: 'CANCELLED' };

export const projectedEvents = Object.keys(statusOf);

export async function projectOrderEvent(db: Db, t: OrdersTables, envelope: Pick<EventEnvelope, 'type' | 'occurredAt' | 'payload'>): Promise<void> {
  const incoming = statusOf[envelope.type];
  if (!incoming) return;
  const p = envelope.payload as Payload;
  const h = t.history;
  const [current] = await db.select().from(h).where(eq(h.orderId, p.orderId)).limit(1);
  const status = laterStatus(current?.status, incoming);
  const row = {
    orderId: p.orderId,
    customerId: p.customerId,
    status,
    reason: status === 'CANCELLED' ? (p.reason ?? current?.reason ?? null) : null,
    itemCount: p.lines ? p.lines.reduce((n, l) => n + l.quantity, 0) : (current?.itemCount ?? null),
    totalMinor: p.totalMinor,
    currency: p.currency,
    placedAt: p.placedAt ? new Date(p.placedAt) : (current?.placedAt ?? null),
    updatedAt: new Date(envelope.occurredAt),
  };
  if (current) await db.update(h).set({ ...row, reason: row.reason ?? current.reason }).where(eq(h.orderId, p.orderId));
  else await db.insert(h).values(row);
}
