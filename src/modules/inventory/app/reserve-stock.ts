import { OutOfStock, ReservationClosed, UnknownSku } from '../contract.ts';
import { LowStock, StockReserved } from '../events.ts';
import { crossedBelow, mergeLines, type Line } from '../domain/reservation.ts';
import { reservationView, type InventoryDeps } from './inventory-deps.ts';
import { sendTogether } from '../../../platform/data/prepared-write.ts';

/** The order has a reservation already: the unit's speculative holds are rolled back and it is answered. */
class Reserved extends Error {}

/** Holds every line or none. Repeating it for the same order answers the existing reservation. */
export async function reserveStock(deps: InventoryDeps, orderId: string, requested: Line[], attempt = 1): Promise<ReturnType<typeof reservationView>> {
  // Sorted by sku: concurrent reservations lock rows in one order and cannot deadlock.
  const lines = mergeLines(requested);
  try {
    return await deps.unitOfWork(async (uow) => {
      const now = deps.clock.now();
      const expiresAt = new Date(now.getTime() + deps.reservationTtlMs);
      // The reservation, then every line's hold, sent together (one round trip on Postgres, with
      // the BEGIN): a new order, the usual case, then needs only its COMMIT, which carries its
      // events. A stock row is locked from its UPDATE to COMMIT, and a popular sku's row is where
      // concurrent orders queue, so nothing is read while it is held but for a line that failed.
      // An order that has a reservation already (a repeat, or a release's tombstone) rolls the
      // holds back and is answered below: a repeat (a saga's retry, rare) thus takes the stock
      // rows' locks for a round trip, which a read first would spare it at a round trip more for
      // every new order.
      const [inserted, ...after] = await sendTogether(uow.db, [
        () => deps.stock.insertNewReservation(uow.db, { orderId, status: 'held', lines, expiresAt, now }),
        ...lines.map((line) => () => deps.stock.hold(uow.db, line, now)),
      ]);
      if (!inserted) throw new Reserved();
      const short: string[] = [];
      const unknown: string[] = [];
      const held = [];
      for (const [i, line] of lines.entries()) {
        const row = after[i] as Awaited<ReturnType<InventoryDeps['stock']['hold']>>;
        if (row) held.push({ line, after: row });
        else if (await deps.stock.find(uow.db, line.sku)) short.push(line.sku);
        else unknown.push(line.sku);
      }
      // Throwing rolls back the reservation and the lines already held: all or nothing.
      if (unknown.length) throw new UnknownSku(`No stock is kept for ${unknown.join(', ')}`, { skus: unknown });
      if (short.length) throw new OutOfStock(`Not enough stock of ${short.join(', ')}`, { skus: short });
      await uow.publish(StockReserved, { orderId, lines });
      for (const { line, after: row } of held) {
        const available = row.onHand - row.reserved;
        if (crossedBelow(available + line.quantity, available, row.lowStockThreshold)) {
          await uow.publish(LowStock, { sku: line.sku, available, threshold: row.lowStockThreshold });
        }
      }
      return reservationView({ orderId, status: 'held', lines, expiresAt });
    });
  } catch (err) {
    if (!(err instanceof Reserved)) throw err;
    // Committed before our insert returned (it waits for a concurrent one): a later state is
    // fine. Gone again only if the unit that wrote it was lost after all (on SQLite, a group
    // commit that failed after our unit saw its row): the reserve then starts over, once.
    const existing = await deps.stock.storedReservation(deps.store.db, orderId);
    if (!existing) {
      if (attempt < 2) return reserveStock(deps, orderId, requested, attempt + 1);
      throw new Error(`the reservation for order ${orderId} that refused this one was rolled back; try again`);
    }
    if (existing.status === 'held' || existing.status === 'committed') return reservationView(existing);
    throw new ReservationClosed(`The reservation for order ${orderId} was ${existing.status}`, { status: existing.status });
  }
}
