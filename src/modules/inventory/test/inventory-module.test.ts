// Inventory alone, through the module harness: what it publishes when stock is held, taken, runs
// low or is not collected in time — the last on a clock the test moves, with the expiry job run
// as the kernel would run it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import inventory from '../module.ts';
import { inventoryContract, LowStock, StockCommitted, StockReleased, StockReserved } from '../index.ts';
import { manualClock } from '../../../platform/testing/manual-clock.ts';
import type { ModuleHarness } from '../../../platform/testing/module-harness.ts';
import { engines } from '../../../../test/support/boot.ts';
import { moduleOn } from '../../../../test/support/module-on-engine.ts';

describe.each(engines)('inventory alone on %s', (engine) => {
  let m: ModuleHarness;
  const clock = manualClock(new Date('2026-11-30T09:00:00Z'));
  beforeAll(async () => {
    m = await moduleOn(engine, inventory, { clock, env: { RESERVATION_TTL_SECONDS: '900' } });
    const admin = m.api('ops', ['admin']);
    expect((await admin.post('/api/v1/inventory/KETTLE/restock', { quantity: 3, lowStockThreshold: 2 })).status).toBe(200);
    expect((await admin.post('/api/v1/inventory/MUG/restock', { quantity: 40, lowStockThreshold: 5 })).status).toBe(200);
  });
  afterAll(() => m?.close());
  const stock = async (sku: string) => (await m.api('ops').get(`/api/v1/inventory/${sku}`)).body;

  it('announces a reservation, and low stock once when available stock crosses the threshold', async () => {
    const reserve = m.contract(inventoryContract).reserveStock;
    const reserved = await m.scenario().stimulate(() => reserve({ orderId: 'o-1', lines: [{ sku: 'KETTLE', quantity: 1 }, { sku: 'MUG', quantity: 2 }] })).andWaitForEvent(StockReserved, (p) => p.orderId === 'o-1');
    expect(reserved.lines).toEqual([{ sku: 'KETTLE', quantity: 1 }, { sku: 'MUG', quantity: 2 }]);
    const low = await m.scenario().stimulate(() => reserve({ orderId: 'o-2', lines: [{ sku: 'KETTLE', quantity: 1 }] })).andWaitForEvent(LowStock, (p) => p.sku === 'KETTLE');
    expect(low).toEqual({ sku: 'KETTLE', available: 1, threshold: 2 });
    await reserve({ orderId: 'o-3', lines: [{ sku: 'KETTLE', quantity: 1 }] });
    expect((await m.published(LowStock)).filter((p) => p.sku === 'KETTLE')).toHaveLength(1);
  });

  it('takes committed stock off the shelf', async () => {
    const committed = await m.scenario().stimulate(() => m.contract(inventoryContract).commitReservation({ orderId: 'o-1' })).andWaitForEvent(StockCommitted, (p) => p.orderId === 'o-1');
    expect(committed.lines).toHaveLength(2);
    expect(await stock('MUG')).toMatchObject({ onHand: 38, reserved: 0 });
  });

  it('gives uncollected reservations back once their fifteen minutes are up, and not before', async () => {
    await m.advance(14 * 60_000);
    expect(await m.published(StockReleased)).toEqual([]);
    const released = await m.scenario().advance(2 * 60_000).andWaitForEvent(StockReleased, (p) => p.orderId === 'o-3');
    expect(released).toEqual({ orderId: 'o-3', lines: [{ sku: 'KETTLE', quantity: 1 }], reason: 'expired' });
    expect((await m.published(StockReleased)).map((p) => p.orderId).sort()).toEqual(['o-2', 'o-3']);
    // One kettle left with o-1; the two held for o-2 and o-3 are back on the shelf.
    expect(await stock('KETTLE')).toMatchObject({ onHand: 2, reserved: 0, available: 2 });
  });
});
