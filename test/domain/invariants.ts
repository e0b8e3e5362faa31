// The commerce invariants, read straight from each module's own store after the dust settles.
import { expect } from 'vitest';
import { eq } from 'drizzle-orm';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';

export interface Stores {
  orders: ModuleStore<any>;
  inventory: ModuleStore<any>;
  payments: ModuleStore<any>;
}

/** Checks every invariant of the commerce domain; `startStock` is each tracked sku's stock before the run. */
export async function checkInvariants(s: Stores, startStock: Map<string, number>) {
  const orders = (await s.orders.db.select().from(s.orders.tables.orders)) as any[];
  const sagas = (await s.orders.db.select().from(s.orders.tables.sagas)) as any[];
  const history = (await s.orders.db.select().from(s.orders.tables.history)) as any[];
  const stock = (await s.inventory.db.select().from(s.inventory.tables.stock)) as any[];
  const reservations = (await s.inventory.db.select().from(s.inventory.tables.reservations)) as any[];
  const events = (await s.payments.db.select().from(s.payments.tables.accountEvents)) as any[];

  // Every saga finished, every order decided.
  expect(sagas.filter((x) => !x.done)).toEqual([]);
  expect(orders.filter((o) => o.status === 'PENDING')).toEqual([]);

  // Stock never negative, never over-reserved, and equal to start minus confirmed quantities.
  for (const row of stock) {
    expect(row.onHand, row.sku).toBeGreaterThanOrEqual(0);
    expect(row.reserved, row.sku).toBe(0);
  }
  const confirmedQty = new Map<string, number>();
  for (const o of orders.filter((o) => o.status === 'CONFIRMED')) for (const l of o.lines) confirmedQty.set(l.sku, (confirmedQty.get(l.sku) ?? 0) + l.quantity);
  for (const [sku, start] of startStock) {
    const row = stock.find((r) => r.sku === sku);
    expect(row?.onHand, sku).toBe(start - (confirmedQty.get(sku) ?? 0));
  }

  // Reservations: confirmed orders committed theirs; cancelled ones hold nothing.
  const byOrder = new Map(reservations.map((r) => [r.orderId, r]));
  for (const o of orders) {
    const r = byOrder.get(o.id);
    if (o.status === 'CONFIRMED') expect(r?.status, o.id).toBe('committed');
    else expect(r === undefined || r.status !== 'held', o.id).toBe(true);
  }

  // Money: one capture per confirmed order, every cancelled capture refunded, net = confirmed totals.
  const captures = new Map<string, number>();
  const refunds = new Map<string, number>();
  for (const e of events) {
    if (e.data.type === 'PaymentCaptured') captures.set(e.data.orderId, (captures.get(e.data.orderId) ?? 0) + 1);
    if (e.data.type === 'PaymentRefunded') refunds.set(e.data.orderId, (refunds.get(e.data.orderId) ?? 0) + 1);
  }
  for (const o of orders) {
    if (o.status === 'CONFIRMED') {
      expect(captures.get(o.id), `captures of ${o.id}`).toBe(1);
      expect(refunds.get(o.id), `refunds of ${o.id}`).toBeUndefined();
    } else {
      expect(captures.get(o.id) ?? 0, `captures of ${o.id}`).toBe(refunds.get(o.id) ?? 0);
      expect(refunds.get(o.id) ?? 0, `refunds of ${o.id}`).toBeLessThanOrEqual(1);
    }
  }
  const netByCustomer = new Map<string, number>();
  for (const e of events) {
    const d = e.data;
    if (d.type === 'PaymentCaptured') netByCustomer.set(e.accountId, (netByCustomer.get(e.accountId) ?? 0) + d.amountMinor);
    if (d.type === 'PaymentRefunded') netByCustomer.set(e.accountId, (netByCustomer.get(e.accountId) ?? 0) - d.amountMinor);
  }
  const confirmedByCustomer = new Map<string, number>();
  for (const o of orders.filter((o) => o.status === 'CONFIRMED')) confirmedByCustomer.set(o.customerId, (confirmedByCustomer.get(o.customerId) ?? 0) + o.totalMinor);
  for (const customer of new Set([...netByCustomer.keys(), ...confirmedByCustomer.keys()])) {
    expect(netByCustomer.get(customer) ?? 0, `net of ${customer}`).toBe(confirmedByCustomer.get(customer) ?? 0);
  }

  // The read model agrees with the write model.
  expect(history.length).toBe(orders.length);
  for (const o of orders) {
    const h = history.find((x) => x.orderId === o.id);
    expect({ status: h?.status, reason: h?.reason ?? null, total: h?.totalMinor }, o.id).toEqual({ status: o.status, reason: o.reason ?? null, total: o.totalMinor });
  }
  return { orders: orders.length, confirmed: orders.filter((o) => o.status === 'CONFIRMED').length, cancelled: orders.filter((o) => o.status === 'CANCELLED').length };
}

export async function stockOf(inventory: ModuleStore<any>, sku: string): Promise<number> {
  const [row] = (await inventory.db.select().from(inventory.tables.stock).where(eq(inventory.tables.stock.sku, sku))) as any[];
  return row.onHand;
}
