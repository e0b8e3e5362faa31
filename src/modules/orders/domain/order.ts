// An order and its lifecycle: PENDING until the saga ends it, then CONFIRMED or CANCELLED with a
// reason a customer can read. Final states never change again (the saga finishes an order only
// while it is PENDING; the history projection never moves a final status back).

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED';

export type CancelReason =
  | 'out_of_stock'
  | 'payment_declined'
  | 'payment_unavailable'
  | 'inventory_unavailable'
  | 'reservation_expired'
  | 'payment_voided'
  /** A module refused the request itself (it failed its contract's validation). */
  | 'rejected';

export interface OrderLine {
  sku: string;
  name: string;
  quantity: number;
  unitPriceMinor: number;
  lineTotalMinor: number;
}
