// An order and its lifecycle: PENDING until the saga ends it, then CONFIRMED or CANCELLED with a
// reason a customer can read. Terminal states never change again.

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED';

export type CancelReason =
  | 'out_of_stock'
  | 'payment_declined'
  | 'payment_unavailable'
  | 'inventory_unavailable'
  | 'reservation_expired'
  | 'payment_voided';

export interface OrderLine {
  sku: string;
  name: string;
  quantity: number;
  unitPriceMinor: number;
  lineTotalMinor: number;
}

export const isTerminal = (s: OrderStatus) => s !== 'PENDING';

/** Out-of-order events must not move a projection backwards: a terminal state wins. */
export function laterStatus(current: OrderStatus | undefined, incoming: OrderStatus): OrderStatus {
  if (!current) return incoming;
  return isTerminal(current) ? current : incoming;
}
