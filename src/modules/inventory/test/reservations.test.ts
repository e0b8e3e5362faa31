import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import { bootApp, engines, type TestApp } from '../../../../test/support/boot.ts';
import { client } from '../../../../test/support/http.ts';
import { eventually } from '../../../../test/support/eventually.ts';
import { inventoryContract, OutOfStock, ReservationClosed, UnknownSku } from '../index.ts';
import type { ContractApi } from '../../../platform/contracts/define-contract.ts';
import type { ModuleStore } from '../../../platform/data/module-store.ts';
import type { InventoryTables } from '../db/schema.ts';

describe.each(engines)('inventory reservations on %s', (engine) => {
  let t: TestApp;
  let inventory: ContractApi<typeof inventoryContract>;
  let store: ModuleStore<InventoryTables>;
  let admin: ReturnType<typeof client>;

  beforeAll(async () => {
    t = await bootApp({ engine, modules: ['inventory'] });
    inventory = t.app.contract(inventoryContract);
    store = t.app.stores.get('inventory') as ModuleStore<InventoryTables>;
    admin = client(t.baseUrl, await t.token('ops', ['admin']));
  });
  afterAll(() => t?.close());

  const restock = async (sku: string, quantity: number, lowStockThreshold = 0) =>
    expect((await admin.post(`/api/v1/inventory/${sku}/restock`, { quantity, lowStockThreshold })).status).toBe(200);

  it('never oversells: 100 concurrent reservations for 10 units hold exactly 10 (consistency over availability)', async () => {
    await restock('RACE-1', 10);
    const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => inventory.reserveStock({ orderId: `race-${i}`, lines: [{ sku: 'RACE-1', quantity: 1 }] })));
    const held = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(held).toHaveLength(10);
    expect(refused.every((r) => (r as PromiseRejectedResult).reason instanceof OutOfStock)).toBe(true);
    expect((await admin.get('/api/v1/inventory/RACE-1')).body).toEqual({ sku: 'RACE-1', onHand: 10, reserved: 10, available: 0, lowStockThreshold: 0 });
  });

  it('holds all lines or none', async () => {
    await restock('PAIR-A', 5);
    await restock('PAIR-B', 1);
    await expect(inventory.reserveStock({ orderId: 'pair-1', lines: [{ sku: 'PAIR-A', quantity: 2 }, { sku: 'PAIR-B', quantity: 2 }] })).rejects.toBeInstanceOf(OutOfStock);
    expect((await admin.get('/api/v1/inventory/PAIR-A')).body.reserved).toBe(0);
    await expect(inventory.reserveStock({ orderId: 'pair-2', lines: [{ sku: 'PAIR-A', quantity: 1 }, { sku: 'NOT-KEPT', quantity: 1 }] })).rejects.toBeInstanceOf(UnknownSku);
    expect((await admin.get('/api/v1/inventory/PAIR-A')).body.reserved).toBe(0);
  });

  it('is idempotent per order: reserving twice holds once, committing twice takes once', async () => {
    await restock('IDEM-1', 10);
    const first = await inventory.reserveStock({ orderId: 'idem-1', lines: [{ sku: 'IDEM-1', quantity: 3 }, { sku: 'IDEM-1', quantity: 1 }] });
    const again = await inventory.reserveStock({ orderId: 'idem-1', lines: [{ sku: 'IDEM-1', quantity: 4 }] });
    expect(again).toEqual(first);
    expect(first.lines).toEqual([{ sku: 'IDEM-1', quantity: 4 }]);
    await inventory.commitReservation({ orderId: 'idem-1' });
    await inventory.commitReservation({ orderId: 'idem-1' });
    expect((await admin.get('/api/v1/inventory/IDEM-1')).body).toMatchObject({ onHand: 6, reserved: 0 });
    expect(await inventory.releaseReservation({ orderId: 'idem-1' })).toEqual({ orderId: 'idem-1', status: 'committed' });
  });

  it('holds once for an order however many of its reserves arrive at once (the others roll their holds back)', async () => {
    await restock('SAME-1', 10);
    const answers = await Promise.all(Array.from({ length: 8 }, () => inventory.reserveStock({ orderId: 'same-1', lines: [{ sku: 'SAME-1', quantity: 3 }] })));
    for (const a of answers) expect(a).toEqual(answers[0]);
    expect(answers[0]).toMatchObject({ orderId: 'same-1', status: 'held', lines: [{ sku: 'SAME-1', quantity: 3 }] });
    expect((await admin.get('/api/v1/inventory/SAME-1')).body).toMatchObject({ onHand: 10, reserved: 3 });
  });

  it('refuses a reserve that arrives after its release (a late, timed-out call)', async () => {
    await restock('LATE-1', 5);
    expect(await inventory.releaseReservation({ orderId: 'late-1' })).toEqual({ orderId: 'late-1', status: 'released' });
    await expect(inventory.reserveStock({ orderId: 'late-1', lines: [{ sku: 'LATE-1', quantity: 1 }] })).rejects.toBeInstanceOf(ReservationClosed);
    expect((await admin.get('/api/v1/inventory/LATE-1')).body.reserved).toBe(0);
  });

  it('gives expired reservations back to the shelf and announces it', async () => {
    // An app of its own, with one-second reservations, so no other test races the clock.
    const short = await bootApp({ engine, modules: ['inventory'], env: { RESERVATION_TTL_SECONDS: '1' } });
    try {
      const api = client(short.baseUrl, await short.token('ops', ['admin']));
      const inv = short.app.contract(inventoryContract);
      const s = short.app.stores.get('inventory') as ModuleStore<InventoryTables>;
      expect((await api.post('/api/v1/inventory/EXPIRE-1/restock', { quantity: 5 })).status).toBe(200);
      await inv.reserveStock({ orderId: 'exp-1', lines: [{ sku: 'EXPIRE-1', quantity: 2 }] });
      await eventually(async () => (await api.get('/api/v1/inventory/EXPIRE-1')).body.reserved === 0, 'reservation expired');
      const [r] = await s.db.select().from(s.tables.reservations).where(eq(s.tables.reservations.orderId, 'exp-1'));
      expect(r!.status).toBe('expired');
      await expect(inv.commitReservation({ orderId: 'exp-1' })).rejects.toBeInstanceOf(ReservationClosed);
      const released = await s.db.select().from(s.tables.outbox).where(eq(s.tables.outbox.type, 'StockReleased.v1'));
      expect(released.map((e) => e.envelope.payload)).toContainEqual({ orderId: 'exp-1', lines: [{ sku: 'EXPIRE-1', quantity: 2 }], reason: 'expired' });
    } finally {
      await short.close();
    }
  });

  it('announces low stock once, when available stock crosses the threshold', async () => {
    await restock('LOW-1', 10, 4);
    await inventory.reserveStock({ orderId: 'low-a', lines: [{ sku: 'LOW-1', quantity: 5 }] });
    await inventory.reserveStock({ orderId: 'low-b', lines: [{ sku: 'LOW-1', quantity: 2 }] });
    await inventory.reserveStock({ orderId: 'low-c', lines: [{ sku: 'LOW-1', quantity: 1 }] });
    const low = (await store.db.select().from(store.tables.outbox).where(eq(store.tables.outbox.type, 'LowStock.v1'))).map((e) => e.envelope.payload);
    expect(low).toEqual([{ sku: 'LOW-1', available: 3, threshold: 4 }]);
    // The crossing hold was refused at once and made line by line: one reservation, announced once.
    const reserved = (await store.db.select().from(store.tables.outbox).where(eq(store.tables.outbox.type, 'StockReserved.v1')).orderBy(asc(store.tables.outbox.seq))).map((e) => e.envelope.payload as { orderId: string });
    expect(reserved.filter((p) => p.orderId.startsWith('low-')).map((p) => p.orderId)).toEqual(['low-a', 'low-b', 'low-c']);
    expect((await admin.get('/api/v1/inventory/LOW-1')).body).toMatchObject({ onHand: 10, reserved: 8 });
  });

  it('refuses to commit a reservation it held that was released since by someone else, and takes nothing', async () => {
    await restock('GONE-1', 5);
    await inventory.reserveStock({ orderId: 'gone-1', lines: [{ sku: 'GONE-1', quantity: 2 }] });
    // Another instance's release: this one still remembers the reservation as held.
    const { reservations, stock } = store.tables;
    await store.transaction(async (tx) => {
      await tx.update(reservations).set({ status: 'released' }).where(eq(reservations.orderId, 'gone-1'));
      await tx.update(stock).set({ reserved: 0 }).where(eq(stock.sku, 'GONE-1'));
    });
    await expect(inventory.commitReservation({ orderId: 'gone-1' })).rejects.toBeInstanceOf(ReservationClosed);
    expect((await admin.get('/api/v1/inventory/GONE-1')).body).toMatchObject({ onHand: 5, reserved: 0 });
    const committed = (await store.db.select().from(store.tables.outbox).where(eq(store.tables.outbox.type, 'StockCommitted.v1'))).map((e) => e.envelope.payload as { orderId: string });
    expect(committed.filter((p) => p.orderId === 'gone-1')).toEqual([]);
  });
});
