// An order and its lifecycle: PENDING until the saga ends it, then CONFIRMED or CANCELLED with a
// reason a customer can read. Final states never change again (the saga finishes an order only
// while it is PENDING; the history projection never moves a final status back).

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED';

/** Why an order was cancelled: the closed list is part of OrderCancelled, in events.ts. */
export type { CancelReason } from '../events.ts';

export interface OrderLine {
  sku: string;
  name: string;
  quantity: number;
  unitPriceMinor: number;
  lineTotalMinor: number;
}

/** Most units of one sku an order may hold (what inventory reserves per line is more). */
export const MAX_UNITS_PER_SKU = 1000;

/**
 * Lines of the same sku are one line with the summed quantity, in first-seen order: limits are
 * judged on what the order really asks for, so two lines of 600 are refused like one of 1,200.
 */
export function mergeItems<I extends { sku: string; quantity: number }>(items: readonly I[]): I[] {
  const merged = new Map<string, I>();
  for (const item of items) {
    const seen = merged.get(item.sku);
    merged.set(item.sku, seen ? { ...seen, quantity: seen.quantity + item.quantity } : { ...item });
  }
  return [...merged.values()];
}
