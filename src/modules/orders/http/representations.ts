// Two versions of the order resource side by side. v1 is the original flat shape and is
// deprecated; v2 groups state, money and lines. Both are views of the same write model.
import { z } from 'zod';
import type { OrderRecord } from '../app/get-order.ts';
import { CancelReason } from '../events.ts';

const Status = z.enum(['PENDING', 'CONFIRMED', 'CANCELLED']);
const Money = z.object({ amountMinor: z.number().int(), currency: z.string() });

/** What placing an order answers (202). */
export const PlacedOrder = z.object({ id: z.string(), status: z.literal('PENDING') });

export const OrderV1 = z.object({
  id: z.string(),
  status: Status,
  reason: CancelReason.optional(),
  items: z.array(z.object({ sku: z.string(), quantity: z.number().int(), unitPriceMinor: z.number().int() })),
  totalMinor: z.number().int(),
  currency: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const OrderV2 = z.object({
  id: z.string(),
  state: z.object({ code: Status, reason: CancelReason.nullable(), final: z.boolean() }),
  customer: z.object({ id: z.string() }),
  lines: z.array(z.object({ sku: z.string(), name: z.string(), quantity: z.number().int(), unitPrice: Money, total: Money })),
  total: Money,
  payment: z.object({ method: z.string() }),
  timestamps: z.object({ createdAt: z.string(), updatedAt: z.string() }),
});

export const OrderHistory = z.object({
  items: z.array(
    z.object({
      orderId: z.string(),
      status: Status,
      reason: CancelReason.optional(),
      itemCount: z.number().int().optional(),
      totalMinor: z.number().int(),
      currency: z.string(),
      placedAt: z.string().optional(),
      updatedAt: z.string(),
    }),
  ),
});

export function orderV1(o: OrderRecord) {
  return {
    id: o.id,
    status: o.status,
    ...(o.reason ? { reason: o.reason } : {}),
    items: o.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPriceMinor: l.unitPriceMinor })),
    totalMinor: o.totalMinor,
    currency: o.currency,
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString(),
  };
}

export function orderV2(o: OrderRecord) {
  return {
    id: o.id,
    state: { code: o.status, reason: o.reason ?? null, final: o.status !== 'PENDING' },
    customer: { id: o.customerId },
    lines: o.lines.map((l) => ({ sku: l.sku, name: l.name, quantity: l.quantity, unitPrice: { amountMinor: l.unitPriceMinor, currency: o.currency }, total: { amountMinor: l.lineTotalMinor, currency: o.currency } })),
    total: { amountMinor: o.totalMinor, currency: o.currency },
    payment: { method: o.paymentMethod },
    timestamps: { createdAt: o.createdAt.toISOString(), updatedAt: o.updatedAt.toISOString() },
  };
}

/** RFC 9745 Deprecation, RFC 8594 Sunset, and a link to the successor. */
export const v1Deprecation = {
  deprecation: '@1798761600', // 2027-01-01T00:00:00Z
  sunset: 'Wed, 30 Jun 2027 23:59:59 GMT',
};
