import { ReservationClosed, ReservationNotFound } from '../contract.ts';
import { StockCommitted } from '../events.ts';
import { reservationView, type InventoryDeps } from './inventory-deps.ts';

export async function commitReservation(deps: InventoryDeps, orderId: string) {
  return deps.unitOfWork(async (uow) => {
    const now = deps.clock.now();
    // The move from held is the check: one statement for a held reservation (the usual case);
    // anything else is read to say why nothing moved.
    const r = await deps.stock.moveStatus(uow.db, orderId, 'held', 'committed', now);
    if (!r) {
      const found = await deps.stock.reservation(uow.db, orderId);
      if (!found) throw new ReservationNotFound(`No reservation for order ${orderId}`);
      if (found.status === 'committed') return reservationView(found);
      throw new ReservationClosed(`The reservation for order ${orderId} was ${found.status}`, { status: found.status });
    }
    // Stock rows last: each stays locked from its UPDATE to COMMIT (see reserve-stock.ts).
    await uow.publish(StockCommitted, { orderId, lines: r.lines });
    for (const line of r.lines) await deps.stock.take(uow.db, line, now);
    return reservationView({ ...r, status: 'committed' });
  });
}
