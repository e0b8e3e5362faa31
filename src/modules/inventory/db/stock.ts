// Inventory's queries. Stock changes are single conditional UPDATEs, so the check and the change
// are one atomic step on both engines: `reserved + q <= on_hand` is re-evaluated under the row
// lock on Postgres and under the database write lock on SQLite.
import { and, eq, gte, lt, sql } from 'drizzle-orm';
import type { Db, ModuleStore } from '../../../platform/data/module-store.ts';
import { bound, preparedWrite } from '../../../platform/data/prepared-write.ts';
import type { InventoryTables } from './schema.ts';
import type { Line, ReservationStatus } from '../domain/reservation.ts';
import { fixedLimit } from '../../../platform/data/planned-once.ts';

// `set()` is typed for values; `bound` is one at run time.
const v = <T>(column: unknown, name: string) => bound(column, name) as unknown as T;

export function stockQueries(store: ModuleStore<InventoryTables>) {
  const { stock, reservations } = store.tables;
  const any = store as unknown as ModuleStore;
  // Every order runs these: built once (prepared-write.ts), with this call's values bound.
  const quantity = bound(stock.reserved, 'quantity');
  const skuIs = eq(stock.sku, bound(stock.sku, 'sku'));
  const available = sql`${stock.onHand} - ${stock.reserved}`;
  const holdStmt = preparedWrite<InventoryTables['stock']['$inferSelect']>(any, 'hold', (db) =>
    db
      .update(stock)
      .set({ reserved: sql`${stock.reserved} + ${quantity}`, updatedAt: v<Date>(stock.updatedAt, 'now') })
      .where(and(skuIs, gte(available, quantity)))
      .returning(),
  );
  // A new order's hold, in the round trip of its COMMIT (reserve-stock.ts): the hold, unless the
  // line is short, its sku unknown, or it would take the sku below its low-stock threshold (whose
  // event needs the row after the hold); each of those changes no row and fails the unit there.
  const holdClearStmt = preparedWrite<{ sku: string }>(
    any,
    'hold_clear_of_threshold',
    (db) =>
      db
        .update(stock)
        .set({ reserved: sql`${stock.reserved} + ${quantity}`, updatedAt: v<Date>(stock.updatedAt, 'now') })
        .where(and(skuIs, gte(available, quantity), sql`(${available} < ${stock.lowStockThreshold} or ${available} - ${quantity} >= ${stock.lowStockThreshold})`))
        .returning({ sku: stock.sku }),
    { expectRows: 1 },
  );
  const takeStmt = preparedWrite(any, 'take', (db) =>
    db
      .update(stock)
      .set({ onHand: sql`${stock.onHand} - ${quantity}`, reserved: sql`${stock.reserved} - ${quantity}`, updatedAt: v<Date>(stock.updatedAt, 'now') })
      .where(skuIs),
  );
  const reservationInsert = (db: Db) =>
    db
      .insert(reservations)
      .values({
        orderId: v<string>(reservations.orderId, 'orderId'),
        status: v<ReservationStatus>(reservations.status, 'status'),
        lines: v<Line[]>(reservations.lines, 'lines'),
        expiresAt: v<Date>(reservations.expiresAt, 'expiresAt'),
        createdAt: v<Date>(reservations.createdAt, 'now'),
        updatedAt: v<Date>(reservations.updatedAt, 'now'),
      })
      .onConflictDoNothing()
      .returning({ orderId: reservations.orderId });
  const insertReservationStmt = preparedWrite<{ orderId: string }>(any, 'insert_reservation', reservationInsert);
  // The same insert, for the one round trip of a new order: an order with a reservation already
  // changes no row and fails the unit at its COMMIT.
  const insertFirstReservationStmt = preparedWrite<{ orderId: string }>(any, 'insert_first_reservation', reservationInsert, { expectRows: 1 });
  const moveStatus = (db: Db) =>
    db
      .update(reservations)
      .set({ status: v<ReservationStatus>(reservations.status, 'to'), updatedAt: v<Date>(reservations.updatedAt, 'now') })
      .where(and(eq(reservations.orderId, bound(reservations.orderId, 'orderId')), eq(reservations.status, bound(reservations.status, 'from'))))
      .returning();
  type ReservationRow = InventoryTables['reservations']['$inferSelect'];
  const moveStatusStmt = preparedWrite<ReservationRow>(any, 'move_reservation', moveStatus);
  // The same move, for a commit sent whole with its COMMIT: a reservation that was not `from`
  // changes no row and fails the unit there.
  const moveExpectedStmt = preparedWrite<ReservationRow>(any, 'move_expected_reservation', moveStatus, { expectRows: 1 });
  const reservationOf = (db: Db, orderId: string) => db.select().from(reservations).where(eq(reservations.orderId, orderId)).limit(fixedLimit(1));
  return {
    async find(db: Db, sku: string) {
      return (await db.select().from(stock).where(eq(stock.sku, sku)).limit(fixedLimit(1)))[0];
    },
    /** Holds `quantity` if that much is available; answers the row after, or nothing. */
    async hold(db: Db, line: Line, now: Date) {
      return (await holdStmt.all(db, { sku: line.sku, quantity: line.quantity, now }))[0];
    },
    /**
     * Holds `quantity` unless the line is short, its sku unknown or the hold would take the sku
     * below its low-stock threshold, in the unit's next round trip: any of those fails the unit
     * there (RowsNotAsExpected 'inventory_hold_clear_of_threshold').
     */
    async holdClearOfThresholdLater(db: Db, line: Line, now: Date) {
      await holdClearStmt.later(db, { sku: line.sku, quantity: line.quantity, now });
    },
    /** Takes held stock off the shelf; the unit needs nothing back, so on Postgres it goes with what follows. */
    async take(db: Db, line: Line, now: Date) {
      await takeStmt.later(db, { sku: line.sku, quantity: line.quantity, now });
    },
    async giveBack(db: Db, line: Line, now: Date) {
      await db.update(stock).set({ reserved: sql`${stock.reserved} - ${line.quantity}`, updatedAt: now }).where(eq(stock.sku, line.sku));
    },
    async restock(db: Db, sku: string, quantity: number, threshold: number | undefined, now: Date) {
      const rows = await db
        .insert(stock)
        .values({ sku, onHand: quantity, reserved: 0, lowStockThreshold: threshold ?? 5, updatedAt: now })
        .onConflictDoUpdate({
          target: stock.sku,
          set: { onHand: sql`${stock.onHand} + ${quantity}`, updatedAt: now, ...(threshold !== undefined ? { lowStockThreshold: threshold } : {}) },
        })
        .returning();
      return rows[0]!;
    },
    /** The order's reservation, locked until the unit of work ends. */
    async reservation(db: Db, orderId: string) {
      return (await store.forUpdate(reservationOf(db, orderId)))[0];
    },
    /** The reservation as committed, read outside a unit of work (no row lock: it would end with the statement). */
    async storedReservation(db: Db, orderId: string) {
      return (await reservationOf(db, orderId))[0];
    },
    /**
     * Inserts the reservation unless one exists for the order: answers whether it did. On Postgres
     * a concurrent insert for the same order waits for that one to commit, then inserts nothing.
     */
    async insertNewReservation(db: Db, r: NewReservation): Promise<boolean> {
      const rows = await insertReservationStmt.all(db, r);
      return rows.length === 1;
    },
    /**
     * Inserts the order's first reservation: if the order has one already, that fails the unit
     * (RowsNotAsExpected 'inventory_insert_first_reservation').
     */
    async insertFirstReservation(db: Db, r: NewReservation) {
      await insertFirstReservationStmt.run(db, r);
    },
    /** As insertFirstReservation, in the unit's next round trip (with its COMMIT, if nothing goes before it). */
    async insertFirstReservationLater(db: Db, r: NewReservation) {
      await insertFirstReservationStmt.later(db, r);
    },
    /** Moves the reservation from `from` to `to` in one statement; answers it as it now stands, or nothing if it was not `from`. */
    async moveStatus(db: Db, orderId: string, from: ReservationStatus, to: ReservationStatus, now: Date) {
      return (await moveStatusStmt.all(db, { orderId, from, to, now }))[0];
    },
    /**
     * Moves the reservation from `from` to `to` in the unit's next round trip; its row, as it
     * then stands, arrives once that was sent. One that was not `from` fails the unit there
     * (RowsNotAsExpected 'inventory_move_expected_reservation').
     */
    moveStatusLater(db: Db, orderId: string, from: ReservationStatus, to: ReservationStatus, now: Date) {
      return moveExpectedStmt.laterWithRows(db, { orderId, from, to, now });
    },
    async overdue(db: Db, now: Date, limit = 100) {
      return db
        .select({ orderId: reservations.orderId })
        .from(reservations)
        .where(and(eq(reservations.status, 'held'), lt(reservations.expiresAt, now)))
        .limit(fixedLimit(limit));
    },
  };
}

export type StockQueries = ReturnType<typeof stockQueries>;

type NewReservation = { orderId: string; status: ReservationStatus; lines: Line[]; expiresAt: Date; now: Date };
