import { z } from 'zod';
import { defineEvent } from '../../platform/bus/define-event.ts';

/**
 * Why an order was cancelled: a closed list, so a consumer can say it in its own words for each.
 * `rejected`: a module refused the request itself (it failed that module's validation).
 */
export const CancelReason = z.enum(['out_of_stock', 'payment_declined', 'payment_unavailable', 'inventory_unavailable', 'reservation_expired', 'payment_voided', 'rejected']);
export type CancelReason = z.infer<typeof CancelReason>;

const Line = z.object({ sku: z.string(), quantity: z.number().int().positive(), unitPriceMinor: z.number().int().nonnegative() });

export const OrderPlaced = defineEvent(
  'OrderPlaced',
  1,
  z.object({ orderId: z.string(), customerId: z.string(), lines: z.array(Line), totalMinor: z.number().int(), currency: z.string(), placedAt: z.string() }),
  'A customer placed an order; the saga has started',
);
export const OrderConfirmed = defineEvent(
  'OrderConfirmed',
  1,
  z.object({ orderId: z.string(), customerId: z.string(), totalMinor: z.number().int(), currency: z.string(), confirmedAt: z.string() }),
  'Stock is taken and payment captured: the order will ship',
);
export const OrderCancelled = defineEvent(
  'OrderCancelled',
  1,
  z.object({ orderId: z.string(), customerId: z.string(), reason: CancelReason, totalMinor: z.number().int(), currency: z.string(), cancelledAt: z.string() }),
  'The order was cancelled and every step already taken was compensated',
);
