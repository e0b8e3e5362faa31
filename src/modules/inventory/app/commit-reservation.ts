import { ReservationClosed, ReservationNotFound } from '../contract.ts';
import { StockCommitted } from '../events.ts';
import { reservationView, type InventoryDeps } from './inventory-deps.ts';

export async function commitReservation(deps: InventoryDeps, orderId: string) {
  return deps.unitOfWork(async (uow) => {
    const r = await deps.stock.reservation(uow.db, orderId);
    if (!r) throw new ReservationNotFound(`No reservation for order ${orderId}`);
    if (r.status === 'committed') return reservationView(r);
    if (r.status !== 'held') throw new ReservationClosed(`The reservation for order ${orderId} was ${r.status}`, { status: r.status });
    const now = deps.clock.now();
    // Stock rows last: each stays locked from its UPDATE to COMMIT (see reserve-stock.ts).
    await deps.stock.setStatus(uow.db, orderId, 'held', 'committed', now);
    await uow.publish(StockCommitted, { orderId, lines: r.lines });
    for (const line of r.lines) await deps.stock.take(uow.db, line, now);
    return reservationView({ ...r, status: 'committed' });
  });
}
