// Sent outbox rows are pruned after BUS_OUTBOX_RETENTION_DAYS by the kernel's housekeeping, in
// every module store, except the events a module keeps: orders' history is rebuilt from its own
// events, so they stay (orders keeps all it publishes, so no pass runs on its outbox), and a
// rebuild once the others are pruned gives the same rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, engines, type TestApp } from '../support/boot.ts';
import { eventually } from '../support/eventually.ts';
import { actors, domainTestEnv, settled } from './commerce-world.ts';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import type { OrdersTables } from '../../src/modules/orders/db/schema.ts';
import { rebuildHistory } from '../../src/modules/orders/app/order-history.ts';

const RETENTION_DAYS = 3;

describe.each(engines)('outbox retention on %s', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootApp({ engine, env: { ...domainTestEnv, BUS_OUTBOX_RETENTION_DAYS: String(RETENTION_DAYS) } });
  });
  afterAll(() => t?.close());

  const outbox = (module: string) => {
    const store = t.app.stores.get(module)!;
    return store.db.select({ type: store.tables.outbox.type, dispatchedAt: store.tables.outbox.dispatchedAt }).from(store.tables.outbox) as Promise<{ type: string; dispatchedAt: Date | null }[]>;
  };
  /** Dates every row of the module's outbox back by `days`, as if written then. */
  const age = async (module: string, days: number) => {
    const store = t.app.stores.get(module)!;
    await store.transaction((tx) => tx.update(store.tables.outbox).set({ createdAt: new Date(Date.now() - days * 24 * 3600 * 1000) }));
  };
  const prune = async (module: string) => t.app.jobs.runNow('platform', `outbox-retention:${module}`);

  it('prunes sent events past the retention, keeps younger ones, and keeps orders’ own events for good', async () => {
    const a = await actors({ baseUrl: t.baseUrl, token: t.token });
    const sku = await a.product(250, 10);
    const { api } = await a.customer();
    const placed = await Promise.all([1, 2, 3].map(() => api.post('/api/v1/orders', { items: [{ sku, quantity: 1 }] })));
    for (const r of placed) expect((await settled(api, r.body.id)).status).toBe('CONFIRMED');
    const modules = ['catalog', 'inventory', 'payments', 'orders'];
    // Every event sent (the relay marks after delivery).
    await eventually(async () => {
      for (const m of modules) if ((await outbox(m)).some((r) => r.dispatchedAt === null)) return false;
      return true;
    }, 'every outbox row sent');
    const before = Object.fromEntries(await Promise.all(modules.map(async (m) => [m, (await outbox(m)).length] as const)));
    expect(before.inventory).toBeGreaterThan(0);
    expect(before.payments).toBeGreaterThan(0);
    // Orders keeps every event it publishes: no pass walks its outbox.
    const pruning = modules.filter((m) => m !== 'orders');
    expect(t.app.jobs.names('platform')).toEqual(expect.arrayContaining(pruning.map((m) => `outbox-retention:${m}`)));
    expect(t.app.jobs.names('platform')).not.toContain('outbox-retention:orders');

    // Younger than the retention: nothing goes.
    for (const m of modules) await age(m, RETENTION_DAYS - 1);
    for (const m of pruning) await prune(m);
    for (const m of modules) expect((await outbox(m)).length).toBe(before[m]);

    // Older: every sent row goes, but orders' own events.
    for (const m of modules) await age(m, RETENTION_DAYS + 1);
    for (const m of pruning) await prune(m);
    expect(await outbox('inventory')).toEqual([]);
    expect(await outbox('payments')).toEqual([]);
    expect(await outbox('catalog')).toEqual([]);
    const kept = await outbox('orders');
    expect(kept.length).toBe(before.orders);
    expect(new Set(kept.map((r) => r.type))).toEqual(new Set(['OrderPlaced.v1', 'OrderConfirmed.v1']));

    // The projection rebuilt from what was kept is the projection the live handlers made.
    const orders = t.app.stores.get('orders') as ModuleStore<OrdersTables>;
    const history = async () =>
      ((await orders.db.select().from(orders.tables.history)) as { orderId: string; status: string; totalMinor: number }[])
        .map(({ orderId, status, totalMinor }) => ({ orderId, status, totalMinor }))
        .sort((x, y) => x.orderId.localeCompare(y.orderId));
    const live = await history();
    expect(live.map((r) => r.orderId).sort()).toEqual(placed.map((r) => r.body.id).sort());
    expect(await rebuildHistory(orders)).toBe(before.orders);
    expect(await history()).toEqual(live);
  });

});
