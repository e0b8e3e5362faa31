import type { ModuleStore } from '../../../platform/data/module-store.ts';
import type { Clock } from '../../../platform/modules/clock.ts';
import type { RunUnitOfWork } from '../../../platform/bus/unit-of-work.ts';
import type { InventoryTables } from '../db/schema.ts';
import type { StockQueries } from '../db/stock.ts';
import type { HeldLines } from './held-lines.ts';

export interface InventoryDeps {
  store: ModuleStore<InventoryTables>;
  unitOfWork: RunUnitOfWork;
  stock: StockQueries;
  /** The lines of reservations this instance recently held (held-lines.ts). */
  heldLines: HeldLines;
  reservationTtlMs: number;
  clock: Clock;
}

export function reservationView(r: { orderId: string; status: 'held' | 'committed' | 'released' | 'expired'; lines: { sku: string; quantity: number }[]; expiresAt: Date }) {
  return { orderId: r.orderId, status: r.status, lines: r.lines, expiresAt: r.expiresAt.toISOString() };
}

export function stockView(s: { sku: string; onHand: number; reserved: number; lowStockThreshold: number }) {
  return { sku: s.sku, onHand: s.onHand, reserved: s.reserved, available: s.onHand - s.reserved, lowStockThreshold: s.lowStockThreshold };
}
