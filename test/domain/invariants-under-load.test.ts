// Hundreds of concurrent orders with a mix of stock-outs, declines and provider failures; then
// every invariant of the domain, read from the stores, and a rebuilt read model equal to the old.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { bootApp, engines, type TestApp } from '../support/boot.ts';
import { client } from '../support/http.ts';
import { eventually } from '../support/eventually.ts';
import { repoRoot } from '../support/processes.ts';
import { actors, domainTestEnv } from './commerce-world.ts';
import { checkInvariants, type Stores } from './invariants.ts';

describe.each(engines)('commerce invariants under concurrent load on %s', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootApp({ engine, env: { ...domainTestEnv, PAYMENT_SLOW_MS: '400', PG_POOL_MAX: '8' } });
  });
  afterAll(() => t?.close());

  it('keeps stock, money, reservations and history consistent', { timeout: 240_000 }, async () => {
    const a = await actors({ baseUrl: t.baseUrl, token: t.token });
    // Scarce stock so that many orders run out; plenty of another so most confirm.
    const scarce = await a.product(990, 25);
    const plenty = await a.product(120, 10_000);
    const start = new Map([[scarce, 25], [plenty, 10_000]]);
    const customers = await Promise.all(Array.from({ length: 12 }, (_, i) => a.customer(`load-${engine}-${i}`)));
    const tokens = ['tok_ok', 'tok_ok', 'tok_ok', 'tok_ok', 'tok_decline', 'tok_fail', 'tok_slow'];
    const total = 240;
    const replies = await Promise.all(
      Array.from({ length: total }, (_, i) => {
        const c = customers[i % customers.length]!;
        const items = i % 3 === 0 ? [{ sku: scarce, quantity: 1 + (i % 2) }, { sku: plenty, quantity: 1 }] : [{ sku: plenty, quantity: 1 + (i % 4) }];
        return c.api.post('/api/v1/orders', { items, paymentMethod: tokens[i % tokens.length] }, { 'idempotency-key': `load-${i}` });
      }),
    );
    expect(replies.filter((r) => r.status !== 202).map((r) => r.body)).toEqual([]);

    const s = { orders: t.app.stores.get('orders')!, inventory: t.app.stores.get('inventory')!, payments: t.app.stores.get('payments')! } as Stores;
    // Wait for every saga to finish and every event to reach the read model.
    await eventually(async () => {
      const sagas = (await s.orders.db.select().from(s.orders.tables.sagas)) as any[];
      const history = (await s.orders.db.select().from(s.orders.tables.history)) as any[];
      return sagas.length === total && sagas.every((x) => x.done) && history.filter((h) => h.status !== 'PENDING').length === total;
    }, 'all sagas done and projected', 180_000, 100);

    const summary = await checkInvariants(s, start);
    expect(summary.orders).toBe(total);
    expect(summary.confirmed).toBeGreaterThan(0);
    expect(summary.cancelled).toBeGreaterThan(0);
    const reasons = new Set(((await s.orders.db.select().from(s.orders.tables.orders)) as any[]).map((o) => o.reason).filter(Boolean));
    expect(reasons).toEqual(new Set(['out_of_stock', 'payment_declined', 'payment_unavailable']));

    // CQRS: rebuilding the projection from events gives the same rows.
    const before = ((await s.orders.db.select().from(s.orders.tables.history)) as any[]).sort((x, y) => x.orderId.localeCompare(y.orderId));
    execFileSync(process.execPath, ['scripts/module-command.ts', 'orders', 'rebuild-history'], { cwd: repoRoot, env: { ...process.env, ...t.storeEnv, LOG_LEVEL: 'silent' }, stdio: 'pipe' });
    const after = ((await s.orders.db.select().from(s.orders.tables.history)) as any[]).sort((x, y) => x.orderId.localeCompare(y.orderId));
    expect(after).toEqual(before);

    // And the customers see what the stores say.
    const c0 = client(t.baseUrl, await t.token(customers[0]!.name));
    const mine = (await c0.get('/api/v1/customers/me/orders?limit=200')).body.items;
    expect(mine).toHaveLength(total / customers.length);
  });
});
