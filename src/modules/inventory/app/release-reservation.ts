import { StockReleased } from '../events.ts';
import type { InventoryDeps } from './inventory-deps.ts';

/**
 * Compensation. Releasing what is not held is a no-op; releasing an order never reserved leaves
 * a closed tombstone, so a late reserve for it (a timed-out call that still arrived) is refused.
 */
export async function releaseReservation(deps: InventoryDeps, orderId: string, reason: 'released' | 'expired' = 'released') {
  deps.heldLines.forget(orderId);
  return deps.unitOfWork(async (uow) => {
    const now = deps.clock.now();
    const r = await deps.stock.reservation(uow.db, orderId);
    if (!r) {
      await deps.stock.insertNewReservation(uow.db, { orderId, status: 'released', lines: [], expiresAt: now, now });
      return { orderId, status: 'released' as const };
    }
    if (r.status !== 'held') return { orderId, status: r.status as 'released' | 'expired' | 'committed' };
    if (reason === 'expired' && r.expiresAt.getTime() > now.getTime()) return { orderId, status: 'released' as const };
    // Stock rows last: each stays locked from its UPDATE to COMMIT (see reserve-stock.ts).
    await deps.stock.moveStatus(uow.db, orderId, 'held', reason, now);
    await uow.publish(StockReleased, { orderId, lines: r.lines, reason });
    for (const line of r.lines) await deps.stock.giveBack(uow.db, line, now);
    return { orderId, status: reason };
  });
}

/** Gives back reservations nobody committed or released in time. */
export async function expireReservations(deps: InventoryDeps): Promise<number> {
  const overdue = await deps.stock.overdue(deps.store.db, deps.clock.now());
  for (const { orderId } of overdue) await releaseReservation(deps, orderId, 'expired');
  return overdue.length;
}
