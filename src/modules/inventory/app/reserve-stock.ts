import { OutOfStock, ReservationClosed, UnknownSku } from '../contract.ts';
import { LowStock, StockReserved } from '../events.ts';
import { crossedBelow, mergeLines, type Line } from '../domain/reservation.ts';
import { reservationView, type InventoryDeps } from './inventory-deps.ts';
import { rowsNotAsExpected, sendTogether } from '../../../platform/data/prepared-write.ts';

type View = ReturnType<typeof reservationView>;

/** Holds every line or none. Repeating it for the same order answers the existing reservation. */
export async function reserveStock(deps: InventoryDeps, orderId: string, requested: Line[]): Promise<View> {
  // Sorted by sku: concurrent reservations lock rows in one order and cannot deadlock.
  const lines = mergeLines(requested);
  const view = await reserve(deps, orderId, lines, 1);
  if (view.status === 'held') deps.heldLines.remember(orderId, view.lines);
  return view;
}

async function reserve(deps: InventoryDeps, orderId: string, lines: Line[], attempt: number): Promise<View> {
  try {
    try {
      return await reserveAtOnce(deps, orderId, lines);
    } catch (err) {
      if (!rowsNotAsExpected(err, 'inventory_hold_clear_of_threshold')) throw err;
    }
    return await reserveLineByLine(deps, orderId, lines);
  } catch (err) {
    // Either way, an order that has a reservation already: its holds were rolled back with the insert.
    if (!rowsNotAsExpected(err, 'inventory_insert_first_reservation')) throw err;
    return answerStored(deps, orderId, lines, attempt);
  }
}

/**
 * The usual case, a new order whose lines are all in stock and stay clear of their low-stock
 * thresholds, as one unit sent whole with its COMMIT (one round trip on Postgres). A stock row is
 * locked from its UPDATE to COMMIT, and a popular sku's row is where concurrent orders queue:
 * with the COMMIT in the same round trip, nobody waits on the row for this process to take its
 * turn between the hold and the COMMIT. Anything else (the order has a reservation, a line is
 * short or unknown, or a hold would cross its threshold, whose event needs the row after it)
 * changes no row, which fails the unit before its COMMIT: nothing is kept, and the callers above
 * take the case up.
 */
function reserveAtOnce(deps: InventoryDeps, orderId: string, lines: Line[]): Promise<View> {
  return deps.unitOfWork(async (uow) => {
    const now = deps.clock.now();
    const expiresAt = new Date(now.getTime() + deps.reservationTtlMs);
    await deps.stock.insertFirstReservationLater(uow.db, { orderId, status: 'held', lines, expiresAt, now });
    for (const line of lines) await deps.stock.holdClearOfThresholdLater(uow.db, line, now);
    await uow.publish(StockReserved, { orderId, lines });
    return reservationView({ orderId, status: 'held', lines, expiresAt });
  });
}

/** Every other new order: each line held and looked at, to say which are short or unknown, or to tell of low stock. */
function reserveLineByLine(deps: InventoryDeps, orderId: string, lines: Line[]): Promise<View> {
  return deps.unitOfWork(async (uow) => {
    const now = deps.clock.now();
    const expiresAt = new Date(now.getTime() + deps.reservationTtlMs);
    // The reservation, then every line's hold, sent together (one round trip on Postgres, with the
    // BEGIN), then the COMMIT with the events. An order that has a reservation by now (a concurrent
    // repeat) fails the unit at its insert, before the holds run.
    const [, ...after] = await sendTogether(uow.db, [
      () => deps.stock.insertFirstReservation(uow.db, { orderId, status: 'held', lines, expiresAt, now }),
      ...lines.map((line) => () => deps.stock.hold(uow.db, line, now)),
    ]);
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
}

/**
 * The order has a reservation (a repeat, or a release's tombstone): answered from it. Read after
 * our unit ended, without a row lock: it committed before our insert found it (the insert waits
 * for a concurrent one), and a later state is fine. Gone again only if the unit that wrote it was
 * lost after all (on SQLite, a group commit that failed after our unit saw its row): the reserve
 * then starts over, once.
 */
async function answerStored(deps: InventoryDeps, orderId: string, lines: Line[], attempt: number): Promise<View> {
  const existing = await deps.stock.storedReservation(deps.store.db, orderId);
  if (!existing) {
    if (attempt < 2) return reserve(deps, orderId, lines, attempt + 1);
    throw new Error(`the reservation for order ${orderId} that refused this one was rolled back; try again`);
  }
  if (existing.status === 'held' || existing.status === 'committed') return reservationView(existing);
  throw new ReservationClosed(`The reservation for order ${orderId} was ${existing.status}`, { status: existing.status });
}
