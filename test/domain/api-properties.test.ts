// Property-based: a few thousand generated requests — odd bodies, headers, paths and tokens —
// never produce a 5xx, and a request that is refused changes nothing in any module's store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { count, eq, isNull, sql } from 'drizzle-orm';
import { bootApp, type TestApp } from '../support/boot.ts';
import { eventually } from '../support/eventually.ts';
import { actors, domainTestEnv } from './commerce-world.ts';

// Both engines: Postgres refuses some values SQLite accepts, and those must be 4xx too.
describe.each([{ engine: 'sqlite' as const, runs: 2000 }, { engine: 'pg' as const, runs: 800 }])('the API under generated input on $engine', ({ engine, runs }) => {
  let t: TestApp;
  let sku: string;
  let tokens: { customer: string; admin: string };
  let orderId: string;

  beforeAll(async () => {
    t = await bootApp({ engine, env: domainTestEnv });
    const a = await actors({ baseUrl: t.baseUrl, token: t.token });
    sku = await a.product(300, 1_000_000);
    tokens = { customer: await t.token('fuzzy'), admin: await t.token('root', ['admin']) };
    const { api } = await a.customer('fuzzy');
    orderId = (await api.post('/api/v1/orders', { items: [{ sku, quantity: 1 }] })).body.id;
  });
  afterAll(() => t?.close());

  /** Row counts of every table of every module, plus stock totals: what a request could change. */
  async function fingerprint(): Promise<string> {
    const parts: string[] = [];
    for (const [name, store] of t.app.stores) {
      for (const [tableName, table] of Object.entries(store.tables)) {
        const [row] = await store.db.select({ n: count() }).from(table as never);
        parts.push(`${name}.${tableName}=${(row as unknown as { n: number }).n}`);
      }
    }
    const inv = t.app.stores.get('inventory')!;
    const [s] = await inv.db.select({ on: sql<number>`sum(on_hand)`.mapWith(Number), res: sql<number>`sum(reserved)`.mapWith(Number) }).from(inv.tables.stock as never);
    parts.push(`stock=${JSON.stringify(s)}`);
    return parts.join(' ');
  }

  /** Waits until no saga runs and every outbox row has been delivered. */
  async function quiet(): Promise<void> {
    await eventually(async () => {
      const orders = t.app.stores.get('orders')!;
      const sagas = orders.tables.sagas as any;
      const [busy] = await orders.db.select({ n: count() }).from(sagas).where(eq(sagas.done, false));
      if (busy!.n > 0) return false;
      for (const store of t.app.stores.values()) {
        const [pending] = await store.db.select({ n: count() }).from(store.tables.outbox).where(isNull(store.tables.outbox.dispatchedAt));
        if (pending!.n > 0) return false;
      }
      return true;
    }, 'system quiet');
  }

  it('answers every generated request without a 5xx, and a refusal writes nothing', async () => {
    const skuArb = fc.oneof(fc.constant(() => sku), fc.constant(() => 'NO-SUCH-1'), fc.string({ maxLength: 12 }).map((s) => () => s));
    const item = fc.record({ sku: skuArb, quantity: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double(), fc.string({ maxLength: 3 }), fc.constant(null)) }, { requiredKeys: [] });
    const orderBody = fc.record(
      { items: fc.oneof(fc.array(item, { maxLength: 3 }), fc.jsonValue()), paymentMethod: fc.oneof(fc.constantFrom('tok_ok', 'tok_decline', 'tok_nope'), fc.jsonValue()), extra: fc.jsonValue() },
      { requiredKeys: [] },
    );
    const productBody = fc.record({ sku: skuArb, name: fc.string({ maxLength: 20 }), priceMinor: fc.oneof(fc.integer({ min: -10, max: 10_000 }), fc.double()), currency: fc.constantFrom('EUR', 'eur', 'EURO', '') }, { requiredKeys: [] });
    const body = fc.oneof(
      orderBody.map((b) => ({ json: b })),
      productBody.map((b) => ({ json: b })),
      fc.jsonValue().map((j) => ({ json: j })),
      fc.string({ maxLength: 40 }).map((s) => ({ raw: s })),
      fc.constant({ raw: '{"items": [' }),
      fc.constant(undefined),
    );
    const path = fc.oneof(
      fc.constant(() => '/api/v1/orders'),
      fc.constant(() => `/api/v1/orders/${orderId}`),
      fc.constant(() => '/api/v2/orders/not-a-uuid'),
      fc.constant(() => '/api/v1/products'),
      skuArb.map((s) => () => `/api/v1/products/${encodeURIComponent(s())}`),
      skuArb.map((s) => () => `/api/v1/inventory/${encodeURIComponent(s())}/restock`),
      fc.string({ maxLength: 20 }).map((q) => () => `/api/v1/accounts/me?at=${encodeURIComponent(q)}`),
      fc.date({ noInvalidDate: true }).map((d) => () => `/api/v1/accounts/me?at=${encodeURIComponent(d.toISOString())}`),
      fc.string({ maxLength: 20 }).map((q) => () => `/api/v1/products?limit=${encodeURIComponent(q)}&minPrice=${encodeURIComponent(q)}`),
      fc.webPath().map((p) => () => `/api/v1${p}`),
      fc.constant(() => '/api/v1/customers/me/orders?limit=-1'),
    );
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PATCH', 'PUT', 'DELETE'),
      path,
      body,
      auth: fc.constantFrom('customer', 'admin', 'none', 'garbage', 'basic'),
      contentType: fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1', undefined),
      idempotencyKey: fc.option(fc.oneof(fc.uuid(), fc.string({ maxLength: 10 })), { nil: undefined }),
    });

    await quiet(); // the order placed in beforeAll has finished its saga
    let before = await fingerprint();
    let served = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = {};
        if (r.auth === 'customer') headers.authorization = `Bearer ${tokens.customer}`;
        if (r.auth === 'admin') headers.authorization = `Bearer ${tokens.admin}`;
        if (r.auth === 'garbage') headers.authorization = 'Bearer abc.def.ghi';
        if (r.auth === 'basic') headers.authorization = 'Basic dXNlcjpwYXNz';
        if (r.contentType) headers['content-type'] = r.contentType;
        if (r.idempotencyKey !== undefined) headers['idempotency-key'] = r.idempotencyKey;
        const payload = r.method === 'GET' || !r.body ? undefined : 'raw' in r.body ? r.body.raw : JSON.stringify(r.body.json, (_k, v) => (typeof v === 'function' ? v() : v));
        const res = await fetch(t.baseUrl + r.path(), { method: r.method, headers, body: payload });
        const text = await res.text();
        served++;
        expect(res.status, `${r.method} ${res.url} → ${text}`).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
          expect(await fingerprint(), `${r.method} ${res.url} was refused but changed state`).toBe(before);
        } else if (r.method !== 'GET') {
          await quiet();
          before = await fingerprint();
        }
      }),
      { numRuns: runs, seed: Number(process.env.FC_SEED ?? 20261130) },
    );
    expect(served).toBeGreaterThanOrEqual(runs);
  }, 300_000);
});
