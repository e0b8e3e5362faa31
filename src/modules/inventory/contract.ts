import { z } from 'zod';
import { defineContract, operation } from '../../platform/contracts/define-contract.ts';
import { defineError } from '../../platform/errors/domain-error.ts';
// A sku is the catalog's identifier: its format is defined once, there.
import { Sku } from '../catalog/index.ts';

/** Most units of one sku a reservation line may hold. */
export const MAX_LINE_QUANTITY = 10_000;
const OrderId = z.string().min(1).max(100);
export const StockLine = z.object({ sku: Sku, quantity: z.number().int().positive().max(MAX_LINE_QUANTITY) });

export const StockView = z.object({
  sku: Sku,
  onHand: z.number().int().nonnegative(),
  reserved: z.number().int().nonnegative(),
  available: z.number().int().nonnegative(),
  lowStockThreshold: z.number().int().nonnegative(),
});
export type StockView = z.infer<typeof StockView>;

const ReservationView = z.object({
  orderId: OrderId,
  status: z.enum(['held', 'committed', 'released', 'expired']),
  lines: z.array(StockLine),
  expiresAt: z.string(),
});

export const OutOfStock = defineError<{ skus: string[] }>('OutOfStock', 409, 'Not enough stock');
export const UnknownSku = defineError<{ skus: string[] }>('UnknownSku', 404, 'No stock is kept for this sku');
export const ReservationClosed = defineError<{ status: string }>('ReservationClosed', 409, 'The reservation is no longer held');
export const ReservationNotFound = defineError('ReservationNotFound', 404, 'No reservation for this order');

/**
 * Consistency over availability: a reservation either takes stock that is there or is refused — never oversold. Every
 * operation is keyed by order id, so a saga may repeat any of them after a crash.
 */
export const inventoryContract = defineContract({
  name: 'inventory',
  errors: [OutOfStock, UnknownSku, ReservationClosed, ReservationNotFound],
  operations: {
    reserveStock: operation({
      input: z.object({ orderId: OrderId, lines: z.array(StockLine).min(1).max(100) }),
      output: ReservationView,
      idempotent: true,
      description: 'Holds stock for an order until committed, released or expired',
    }),
    commitReservation: operation({
      input: z.object({ orderId: OrderId }),
      output: ReservationView,
      idempotent: true,
      description: 'Takes held stock out of the warehouse for good',
    }),
    releaseReservation: operation({
      input: z.object({ orderId: OrderId }),
      output: z.object({ orderId: OrderId, status: z.enum(['released', 'expired', 'committed']) }),
      idempotent: true,
      description: 'Compensation: gives held stock back (a no-op when nothing is held)',
    }),
    getStock: operation({ input: z.object({ sku: Sku }), output: StockView, idempotent: true }),
  },
});
