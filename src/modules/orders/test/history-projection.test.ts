// The read model must come out the same whatever order its events arrive in, and however often.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { engines } from '../../../../test/support/boot.ts';
import { moduleOn } from '../../../../test/support/module-on-engine.ts';
import type { ModuleHarness } from '../../../platform/testing/module-harness.ts';
import { fake } from '../../../platform/testing/contract-fake.ts';
import type { ModuleStore } from '../../../platform/data/module-store.ts';
import { catalogContract } from '../../catalog/index.ts';
import { inventoryContract } from '../../inventory/index.ts';
import { paymentsContract } from '../../payments/index.ts';
import orders from '../module.ts';
import type { OrdersTables } from '../db/schema.ts';
import { projectOrderEvent } from '../app/history-projector.ts';
import { orderStatements } from '../db/order-writes.ts';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const placed = (id: string) => ({ type: 'OrderPlaced', occurredAt: at(1), payload: { orderId: id, customerId: 'c', lines: [{ sku: 'A', quantity: 2, unitPriceMinor: 5 }, { sku: 'B', quantity: 1, unitPriceMinor: 5 }], totalMinor: 15, currency: 'EUR', placedAt: at(1) } });
const confirmed = (id: string) => ({ type: 'OrderConfirmed', occurredAt: at(2), payload: { orderId: id, customerId: 'c', totalMinor: 15, currency: 'EUR', confirmedAt: at(2) } });
const cancelled = (id: string) => ({ type: 'OrderCancelled', occurredAt: at(3), payload: { orderId: id, customerId: 'c', reason: 'payment_declined', totalMinor: 15, currency: 'EUR', cancelledAt: at(3) } });

describe.each(engines)('order history projection on %s', (engine) => {
  let m: ModuleHarness;
  let store: ModuleStore<OrdersTables>;
  beforeAll(async () => {
    // The projection alone: its neighbours are never called here.
    m = await moduleOn(engine, orders, { fakes: [fake(catalogContract, {}), fake(inventoryContract, {}), fake(paymentsContract, {})] });
    store = m.store as ModuleStore<OrdersTables>;
  });
  afterAll(() => m?.close());

  const apply = (events: { type: string; occurredAt: string; payload: unknown }[]) =>
    store.transaction(async (tx) => {
      const statements = orderStatements(store);
      for (const e of events) await projectOrderEvent(tx, statements, e);
    });
  const row = async (id: string) => (await store.db.select().from(store.tables.history).where(eq(store.tables.history.orderId, id)))[0];

  const permutations = [
    ['in order', (id: string) => [placed(id), confirmed(id)]],
    ['final first', (id: string) => [confirmed(id), placed(id)]],
    ['duplicated and shuffled', (id: string) => [confirmed(id), placed(id), confirmed(id), placed(id)]],
  ] as const;

  it.each(permutations)('ends CONFIRMED with every field filled when events arrive %s', async (_what, events) => {
    const id = `p-${Math.random().toString(36).slice(2)}`;
    await apply(events(id));
    expect(await row(id)).toMatchObject({ status: 'CONFIRMED', reason: null, itemCount: 3, totalMinor: 15, placedAt: new Date(at(1)), updatedAt: new Date(at(2)) });
  });

  it('keeps a cancellation and its reason when OrderPlaced arrives last', async () => {
    await apply([cancelled('late-placed'), placed('late-placed')]);
    expect(await row('late-placed')).toMatchObject({ status: 'CANCELLED', reason: 'payment_declined', itemCount: 3, updatedAt: new Date(at(3)) });
  });
});
