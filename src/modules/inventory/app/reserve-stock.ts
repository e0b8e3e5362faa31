import { OutOfStock, ReservationClosed, UnknownSku } from '../contract.ts';
import { LowStock, StockReserved } from '../events.ts';
import { crossedBelow, mergeLines, type Line } from '../domain/reservation.ts';
import { reservationView, type InventoryDeps } from './inventory-deps.ts';

/** Holds every line or none. Repeating it for the same order answers the existing reservation. */
export async function reserveStock(deps: InventoryDeps, orderId: string, requested: Line[]) {
  return deps.unitOfWork(async (uow) => {
    const now = deps.clock.now();
    // Sorted by sku: concurrent reservations lock rows in one order and cannot deadlock.
    const lines = mergeLines(requested);
    // The reservation and its event are written before the stock rows are touched: a stock row
    // is locked from its UPDATE to COMMIT, and a popular sku's row is where concurrent orders
    // queue, so nothing else should run while it is held. A failure below rolls all of it back.
    // Inserting first (rather than looking first) is one statement fewer for a new order; one
    // that exists already (a repeat, or a release's tombstone) is then read and answered.
    const expiresAt = new Date(now.getTime() + deps.reservationTtlMs);
    if (!(await deps.stock.insertNewReservation(uow.db, { orderId, status: 'held', lines, expiresAt, now }))) {
      const existing = (await deps.stock.reservation(uow.db, orderId))!;
      if (existing.status === 'held' || existing.status === 'committed') return reservationView(existing);
      throw new ReservationClosed(`The reservation for order ${orderId} was ${existing.status}`, { status: existing.status });
    }
    await uow.publish(StockReserved, { orderId, lines });
    const short: string[] = [];
    const unknown: string[] = [];
    const held = [];
    for (const line of lines) {
      const after = await deps.stock.hold(uow.db, line, now);
      if (after) held.push({ line, after });
      else if (await deps.stock.find(uow.db, line.sku)) short.push(line.sku);
      else unknown.push(line.sku);
    }
    // Throwing rolls back the lines already held: all or nothing.
    if (unknown.length) throw new UnknownSku(`No stock is kept for ${unknown.join(', ')}`, { skus: unknown });
    if (short.length) throw new OutOfStock(`Not enough stock of ${short.join(', ')}`, { skus: short });
    for (const { line, after } of held) {
      const available = after.onHand - after.reserved;
      if (crossedBelow(available + line.quantity, available, after.lowStockThreshold)) {
        await uow.publish(LowStock, { sku: line.sku, available, threshold: after.lowStockThreshold });
      }
    }
    return reservationView({ orderId, status: 'held', lines, expiresAt });
  });
}
