// What each event means to a person. Each message stands alone, so events arriving in any order
// (a refund before the cancellation it belongs to) still read correctly.
import type { EventPayload } from '../../../platform/bus/define-event.ts';
import type { OrderCancelled } from '../../orders/index.ts';

/** The reasons orders gives in OrderCancelled: a closed list, read from the event's own schema. */
type CancelReason = EventPayload<typeof OrderCancelled>['reason'];

const money = (minor: number, currency: string) => `${(minor / 100).toFixed(2)} ${currency}`;

// Every reason orders may give has its words here: a new one fails to compile until it does.
const reasons: Record<CancelReason, string> = {
  out_of_stock: 'some items are out of stock',
  payment_declined: 'your payment was declined',
  payment_unavailable: 'we could not reach the payment provider',
  inventory_unavailable: 'we could not reserve your items in time',
  reservation_expired: 'your items were not reserved in time',
  payment_voided: 'the payment was voided',
  rejected: 'it could not be processed',
};

export interface Message {
  audience: 'customer' | 'operations';
  recipient: string;
  kind: string;
  subject: string;
  body: string;
  orderId?: string;
}

export const orderConfirmed = (p: { orderId: string; customerId: string; totalMinor: number; currency: string }): Message => ({
  audience: 'customer', recipient: p.customerId, kind: 'order_confirmed', orderId: p.orderId,
  subject: 'Your order is confirmed',
  body: `Order ${p.orderId} is confirmed; we charged ${money(p.totalMinor, p.currency)}.`,
});

export const orderCancelled = (p: { orderId: string; customerId: string; reason: CancelReason }): Message => ({
  audience: 'customer', recipient: p.customerId, kind: 'order_cancelled', orderId: p.orderId,
  subject: 'Your order was cancelled',
  body: `Order ${p.orderId} was cancelled because ${reasons[p.reason]}.`,
});

export const paymentRefunded = (p: { orderId: string; customerId: string; amountMinor: number; currency: string }): Message => ({
  audience: 'customer', recipient: p.customerId, kind: 'payment_refunded', orderId: p.orderId,
  subject: 'You have been refunded',
  body: `We refunded ${money(p.amountMinor, p.currency)} for order ${p.orderId}.`,
});

export const lowStock = (p: { sku: string; available: number; threshold: number }): Message => ({
  audience: 'operations', recipient: 'operations', kind: 'low_stock',
  subject: `Low stock: ${p.sku}`,
  body: `Only ${p.available} of ${p.sku} left (threshold ${p.threshold}); time to restock.`,
});
