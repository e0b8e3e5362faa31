// Reservation rules, pure. A reservation is held, then committed (stock leaves) or given back
// (released by the saga, or expired when nobody came back for it).

export type ReservationStatus = 'held' | 'committed' | 'released' | 'expired';

export interface Line {
  sku: string;
  quantity: number;
}

/** The same sku twice in one order is one line with the summed quantity. */
export function mergeLines(lines: readonly Line[]): Line[] {
  const bySku = new Map<string, number>();
  for (const l of lines) bySku.set(l.sku, (bySku.get(l.sku) ?? 0) + l.quantity);
  return [...bySku].map(([sku, quantity]) => ({ sku, quantity })).sort((a, b) => a.sku.localeCompare(b.sku));
}

export function isOpen(status: ReservationStatus): boolean {
  return status === 'held';
}

/** Low stock is announced once, when available stock crosses below the threshold. */
export function crossedBelow(before: number, after: number, threshold: number): boolean {
  return before >= threshold && after < threshold;
}
