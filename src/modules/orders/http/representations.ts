// Two versions of the order resource side by side. v1 is the original flat shape and is
// deprecated; v2 groups state, money and lines. Both are views of the same write model.
import type { OrderRecord } from '../app/get-order.ts';

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
