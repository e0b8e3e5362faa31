import { ReservationClosed, ReservationNotFound } from '../contract.ts';
import { StockCommitted } from '../events.ts';
import { reservationView, type InventoryDeps } from './inventory-deps.ts';
import { rowsNotAsExpected } from '../../../platform/data/prepared-write.ts';
import type { UnitOfWork } from '../../../platform/bus/unit-of-work.ts';
import type { Line } from '../domain/reservation.ts';

export async function commitReservation(deps: InventoryDeps, orderId: string) {
  const lines = deps.heldLines.of(orderId);
  if (lines) {
    try {
      return await commitKnownLines(deps, orderId, lines);
    } catch (err) {
      if (!rowsNotAsExpected(err, 'inventory_move_expected_reservation')) throw err;
      // Not held any more (committed by a repeat, released, expired): looked at below.
      deps.heldLines.forget(orderId);
    }
  }
  return commitReadLines(deps, orderId);
}

/**
 * A reservation this instance held (held-lines.ts): the move from held, the event and the stock
 * taken are sent whole with the COMMIT (one round trip on Postgres). A reservation that is no
 * longer held moves no row, which fails the unit before its COMMIT: nothing is kept.
 */
async function commitKnownLines(deps: InventoryDeps, orderId: string, lines: Line[]) {
  const moved = await deps.unitOfWork(async (uow) => {
    const now = deps.clock.now();
    const move = deps.stock.moveStatusLater(uow.db, orderId, 'held', 'committed', now);
    await announceAndTake(deps, uow, orderId, lines, now);
    return move;
  });
  const [r] = await moved.rows;
  deps.heldLines.forget(orderId);
  return reservationView({ ...r!, status: 'committed' });
}

async function commitReadLines(deps: InventoryDeps, orderId: string) {
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
    await announceAndTake(deps, uow, orderId, r.lines, now);
    return reservationView({ ...r, status: 'committed' });
  });
}

/** The committed reservation's event, then its stock taken off the shelf. */
async function announceAndTake(deps: InventoryDeps, uow: UnitOfWork, orderId: string, lines: Line[], now: Date) {
  await uow.publish(StockCommitted, { orderId, lines });
  // Stock rows last: each stays locked from its UPDATE to COMMIT (see reserve-stock.ts).
  for (const line of lines) await deps.stock.take(uow.db, line, now);
}
