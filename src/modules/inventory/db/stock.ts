// Inventory's queries. Stock changes are single conditional UPDATEs, so the check and the change
// are one atomic step on both engines: `reserved + q <= on_hand` is re-evaluated under the row
// lock on Postgres and under the database write lock on SQLite.
import { and, eq, gte, lt, sql } from 'drizzle-orm';
import type { Db, ModuleStore } from '../../../platform/data/module-store.ts';
import type { InventoryTables } from './schema.ts';
import type { Line, ReservationStatus } from '../domain/reservation.ts';

export function stockQueries(store: ModuleStore<InventoryTables>) {
  const { stock, reservations } = store.tables;
  return {
    async find(db: Db, sku: string) {
      return (await db.select().from(stock).where(eq(stock.sku, sku)).limit(1))[0];
    },
    /** Holds `quantity` if that much is available; answers the row after, or nothing. */
    async hold(db: Db, line: Line, now: Date) {
      const rows = await db
        .update(stock)
        .set({ reserved: sql`${stock.reserved} + ${line.quantity}`, updatedAt: now })
        .where(and(eq(stock.sku, line.sku), gte(sql`${stock.onHand} - ${stock.reserved}`, line.quantity)))
        .returning();
      return rows[0];
    },
    async take(db: Db, line: Line, now: Date) {
      await db
        .update(stock)
        .set({ onHand: sql`${stock.onHand} - ${line.quantity}`, reserved: sql`${stock.reserved} - ${line.quantity}`, updatedAt: now })
        .where(eq(stock.sku, line.sku));
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
    async reservation(db: Db, orderId: string) {
      return (await store.forUpdate(db.select().from(reservations).where(eq(reservations.orderId, orderId)).limit(1)))[0];
    },
    /**
     * Inserts the reservation unless one exists for the order: answers whether it did. On Postgres
     * a concurrent insert for the same order waits for that one to commit, then inserts nothing.
     */
    async insertNewReservation(db: Db, r: { orderId: string; status: ReservationStatus; lines: Line[]; expiresAt: Date; now: Date }): Promise<boolean> {
      const rows = await db
        .insert(reservations)
        .values({ orderId: r.orderId, status: r.status, lines: r.lines, expiresAt: r.expiresAt, createdAt: r.now, updatedAt: r.now })
        .onConflictDoNothing()
        .returning({ orderId: reservations.orderId });
      return rows.length === 1;
    },
    /** Moves the reservation from `from` to `to` in one statement; answers it as it now stands, or nothing if it was not `from`. */
    async moveStatus(db: Db, orderId: string, from: ReservationStatus, to: ReservationStatus, now: Date) {
      const rows = await db
        .update(reservations)
        .set({ status: to, updatedAt: now })
        .where(and(eq(reservations.orderId, orderId), eq(reservations.status, from)))
        .returning();
      return rows[0];
    },
    async overdue(db: Db, now: Date, limit = 100) {
      return db
        .select({ orderId: reservations.orderId })
        .from(reservations)
        .where(and(eq(reservations.status, 'held'), lt(reservations.expiresAt, now)))
        .limit(limit);
    },
  };
}

export type StockQueries = ReturnType<typeof stockQueries>;
