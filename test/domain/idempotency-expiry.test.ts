// Keys expire after IDEMPOTENCY_TTL_SECONDS; after that the same key is a new request: its claim
// takes the expired row's place (one upsert, on each engine's own ON CONFLICT).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, engines, type TestApp } from '../support/boot.ts';
import { eventually } from '../support/eventually.ts';
import { actors, domainTestEnv } from './commerce-world.ts';

describe.each(engines)('idempotency keys on %s', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootApp({ engine, env: { ...domainTestEnv, IDEMPOTENCY_TTL_SECONDS: '1' } });
  });
  afterAll(() => t?.close());

  it('expire after the configured time', async () => {
    const a = await actors({ baseUrl: t.baseUrl, token: t.token });
    const sku = await a.product(100, 10);
    const { api } = await a.customer();
    const body = { items: [{ sku, quantity: 1 }] };
    const first = await api.post('/api/v1/orders', body, { 'idempotency-key': 'short-lived' });
    expect((await api.post('/api/v1/orders', body, { 'idempotency-key': 'short-lived' })).body.id).toBe(first.body.id);
    const later = await eventually(async () => {
      const r = await api.post('/api/v1/orders', body, { 'idempotency-key': 'short-lived' });
      return r.status === 202 && r.body.id !== first.body.id ? r : undefined;
    }, 'key expired', 10_000, 200);
    expect(later.headers.get('idempotent-replayed')).toBeNull();
    // The key's row now stands for the new order (read from the store: a repeated request may
    // come after this key expires too, on a slow machine).
    const store = t.app.stores.get('orders')!;
    const rows = (await store.db.select().from(store.tables.idempotencyKeys)) as { key: string; response: { id?: string } }[];
    expect(rows.filter((r) => r.key === 'short-lived').map((r) => r.response.id)).toEqual([later.body.id]);
  });
});

describe('the kernel’s housekeeping', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootApp({ engine: 'sqlite', env: { ...domainTestEnv, IDEMPOTENCY_TTL_SECONDS: '1' } });
  });
  afterAll(() => t?.close());

  it('deletes expired idempotency keys of every module store, once, on its own schedule', async () => {
    const a = await actors({ baseUrl: t.baseUrl, token: t.token });
    const admin = a.admin;
    await admin.post('/api/v1/products', { sku: 'KEEP-1', name: 'Kept', priceMinor: 1, currency: 'EUR' }, { 'idempotency-key': 'cat-key' });
    await admin.post('/api/v1/inventory/KEEP-1/restock', { quantity: 1 }, { 'idempotency-key': 'inv-key' });
    const keys = async (module: string) => {
      const store = t.app.stores.get(module)!;
      return (await store.db.select().from(store.tables.idempotencyKeys)).length;
    };
    expect(await keys('catalog')).toBeGreaterThan(0);
    expect(await keys('inventory')).toBeGreaterThan(0);
    expect(t.app.jobs.names('platform')).toEqual(expect.arrayContaining(['idempotency-expiry:catalog', 'idempotency-expiry:inventory', 'inbox-retention:orders', 'outbox-retention:catalog']));
    await eventually(async () => {
      for (const m of ['catalog', 'inventory']) await t.app.jobs.runNow('platform', `idempotency-expiry:${m}`);
      return (await keys('catalog')) === 0 && (await keys('inventory')) === 0;
    }, 'expired keys swept', 10_000, 200);
  });
});
