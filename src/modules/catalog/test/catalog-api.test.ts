import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, eq } from 'drizzle-orm';
import { bootApp, engines, type TestApp } from '../../../../test/support/boot.ts';
import { client } from '../../../../test/support/http.ts';
import { catalogContract, ProductNotFound } from '../index.ts';
import { ValidationFailed } from '../../../platform/errors/domain-error.ts';
import { runWithContext } from '../../../platform/context/request-context.ts';
import type { CatalogTables } from '../db/schema.ts';
import type { ModuleStore } from '../../../platform/data/module-store.ts';

/** Calls again while the answer is 503 Overloaded (bounded), as a well-behaved client would. */
async function retryOverloaded<R extends { status: number; body: any }>(call: () => Promise<R>, attempts = 20): Promise<R> {
  for (let n = 1; ; n++) {
    const r = await call();
    if (r.status !== 503 || r.body?.code !== 'Overloaded' || n >= attempts) return r;
    await new Promise((done) => setTimeout(done, 50 * n));
  }
}

describe.each(engines)('catalog over HTTP on %s', (engine) => {
  let t: TestApp;
  let admin: ReturnType<typeof client>;
  let alice: ReturnType<typeof client>;
  let anonymous: ReturnType<typeof client>;
  let store: ModuleStore<CatalogTables>;

  beforeAll(async () => {
    t = await bootApp({ engine, modules: ['catalog'] });
    admin = client(t.baseUrl, await t.token('root', ['admin']));
    alice = client(t.baseUrl, await t.token('alice'));
    anonymous = client(t.baseUrl);
    store = t.app.stores.get('catalog') as ModuleStore<CatalogTables>;
  });
  afterAll(() => t?.close());

  it('creates a product, answers 201 with its location, and reads it back', async () => {
    const created = await admin.post('/api/v1/products', { sku: 'TEA-1', name: ' Green tea ', priceMinor: 1250, currency: 'EUR' });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/products/TEA-1');
    expect(created.body).toMatchObject({ sku: 'TEA-1', name: 'Green tea', priceMinor: 1250, currency: 'EUR', version: 1 });
    const read = await alice.get('/api/v1/products/TEA-1');
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  });

  it('publishes ProductCreated in the same transaction as the row', async () => {
    const rows = await store.db.select().from(store.tables.outbox).where(eq(store.tables.outbox.type, 'ProductCreated.v1'));
    expect(rows.map((r) => (r.envelope.payload as { sku: string }).sku)).toContain('TEA-1');
    const envelope = rows[0]!.envelope;
    expect(envelope).toMatchObject({ type: 'ProductCreated', version: 1, source: 'catalog' });
    expect(envelope.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });

  it('lists with filters and cursor pagination', async () => {
    for (const [sku, price] of [['PAGE-A', 100], ['PAGE-B', 200], ['PAGE-C', 300]] as const) {
      expect((await admin.post('/api/v1/products', { sku, name: `Page ${sku}`, priceMinor: price, currency: 'USD' })).status).toBe(201);
    }
    const first = await alice.get('/api/v1/products?currency=USD&limit=2');
    expect(first.body.items.map((p: { sku: string }) => p.sku)).toEqual(['PAGE-A', 'PAGE-B']);
    expect(first.body.nextCursor).toBe('PAGE-B');
    const second = await alice.get(`/api/v1/products?currency=USD&limit=2&after=${first.body.nextCursor}`);
    expect(second.body).toMatchObject({ items: [{ sku: 'PAGE-C' }], nextCursor: null });
    const cheap = await alice.get('/api/v1/products?maxPrice=150&currency=USD');
    expect(cheap.body.items.map((p: { sku: string }) => p.sku)).toEqual(['PAGE-A']);
    const byName = await alice.get('/api/v1/products?q=page-b');
    expect(byName.body.items.map((p: { sku: string }) => p.sku)).toEqual(['PAGE-B']);
  });

  it('updates with optimistic concurrency and bumps the version', async () => {
    const ok = await admin.patch('/api/v1/products/TEA-1', { priceMinor: 1300, expectedVersion: 1 });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ priceMinor: 1300, version: 2 });
    const stale = await admin.patch('/api/v1/products/TEA-1', { priceMinor: 1400, expectedVersion: 1 });
    expect(stale.status).toBe(409);
    expect(stale.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it('refuses bad input with precise problem+json and changes nothing', async () => {
    const before = await store.db.select({ n: count() }).from(store.tables.products);
    const cases: [string, () => Promise<{ status: number; body: any; headers: Headers }>, number, string][] = [
      ['missing token', () => anonymous.get('/api/v1/products'), 401, 'Unauthenticated'],
      ['bad token', () => client(t.baseUrl, 'not-a-jwt').get('/api/v1/products'), 401, 'Unauthenticated'],
      ['not admin', () => alice.post('/api/v1/products', { sku: 'NOPE-1', name: 'x', priceMinor: 1, currency: 'EUR' }), 403, 'Forbidden'],
      ['malformed JSON', () => admin.post('/api/v1/products', '{"sku":'), 400, 'MalformedJson'],
      ['wrong types', () => admin.post('/api/v1/products', { sku: 'NOPE-2', name: 'x', priceMinor: '1', currency: 'EUR' }), 400, 'ValidationFailed'],
      ['negative price', () => admin.post('/api/v1/products', { sku: 'NOPE-3', name: 'x', priceMinor: -1, currency: 'EUR' }), 400, 'ValidationFailed'],
      ['unknown field', () => admin.post('/api/v1/products', { sku: 'NOPE-4', name: 'x', priceMinor: 1, currency: 'EUR', hack: 1 }), 400, 'ValidationFailed'],
      ['duplicate sku', () => admin.post('/api/v1/products', { sku: 'TEA-1', name: 'x', priceMinor: 1, currency: 'EUR' }), 409, 'Conflict'],
      ['not JSON', () => admin.call('POST', '/api/v1/products', 'sku=x', { 'content-type': 'text/plain' }), 415, 'UnsupportedMediaType'],
      ['too large', () => admin.post('/api/v1/products', { sku: 'NOPE-5', name: 'x'.repeat(200_000), priceMinor: 1, currency: 'EUR' }), 413, 'BodyTooLarge'],
      ['unknown product', () => alice.get('/api/v1/products/NOPE-6'), 404, 'ProductNotFound'],
      ['bad sku in path', () => alice.get('/api/v1/products/lower-case'), 400, 'ValidationFailed'],
      ['bad query', () => alice.get('/api/v1/products?limit=0'), 400, 'ValidationFailed'],
      ['unknown route', () => alice.get('/api/v1/nothing-here'), 404, 'RouteNotFound'],
    ];
    for (const [what, send, status, code] of cases) {
      const reply = await send();
      expect(reply.status, what).toBe(status);
      expect(reply.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
      expect(reply.body.code, what).toBe(code);
      expect(reply.body.requestId, what).toBeTruthy();
    }
    const validation = await admin.post('/api/v1/products', { sku: 'x', name: '', priceMinor: 1.5, currency: 'euro' });
    expect(validation.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['body.currency', 'body.name', 'body.priceMinor', 'body.sku']);
    const after = await store.db.select({ n: count() }).from(store.tables.products);
    expect(after).toEqual(before);
  });

  it('honours and echoes X-Request-Id', async () => {
    const reply = await alice.get('/api/v1/products/TEA-1', { 'x-request-id': 'my-trace-123' });
    expect(reply.headers.get('x-request-id')).toBe('my-trace-123');
  });

  it('serves its contract in-process with the same validation and typed errors a remote binding has', async () => {
    const catalog = t.app.contract(catalogContract);
    const ctx = { requestId: 'r', correlationId: 'c' };
    const priced = await runWithContext(ctx, () => catalog.priceItems({ items: [{ sku: 'TEA-1', quantity: 3 }] }));
    expect(priced).toMatchObject({ totalMinor: 3900, currency: 'EUR', lines: [{ sku: 'TEA-1', quantity: 3, unitPriceMinor: 1300 }] });
    await expect(catalog.getProduct({ sku: 'NOPE-9' })).rejects.toBeInstanceOf(ProductNotFound);
    await expect(catalog.priceItems({ items: [{ sku: 'TEA-1', quantity: 0 }] })).rejects.toBeInstanceOf(ValidationFailed);
    const err = await catalog.priceItems({ items: [{ sku: 'NOPE-7', quantity: 1 }, { sku: 'NOPE-8', quantity: 1 }] }).catch((e) => e);
    expect(err).toBeInstanceOf(ProductNotFound);
    expect(err.details).toEqual({ skus: ['NOPE-7', 'NOPE-8'] });
  });

  it('keeps every invariant under many concurrent writes through the API', async () => {
    // 120 distinct creates, 40 duplicate creates of one sku, and 60 racing updates of one product.
    // Requests that queue for a connection longer than the pool allows (a loaded machine) are told
    // 503 Overloaded with Retry-After before anything is written, and a client retries them; so
    // does the test. The invariants below are what must hold whatever the machine's speed.
    const creates = Array.from({ length: 120 }, (_, i) =>
      retryOverloaded(() => admin.post('/api/v1/products', { sku: `LOAD-${i}`, name: `Load ${i}`, priceMinor: i, currency: 'EUR' })),
    );
    const duplicates = Array.from({ length: 40 }, () =>
      retryOverloaded(() => admin.post('/api/v1/products', { sku: 'LOAD-DUP', name: 'Duplicate', priceMinor: 1, currency: 'EUR' })),
    );
    const racers = Array.from({ length: 60 }, (_, i) =>
      retryOverloaded(() => admin.patch('/api/v1/products/TEA-1', { priceMinor: 2000 + i, expectedVersion: 2 })),
    );
    const blind = Array.from({ length: 60 }, (_, i) => retryOverloaded(() => admin.patch('/api/v1/products/PAGE-A', { priceMinor: 5000 + i })));
    const [c, d, r, b] = await Promise.all([Promise.all(creates), Promise.all(duplicates), Promise.all(racers), Promise.all(blind)]);

    expect(c.every((x) => x.status === 201)).toBe(true);
    expect(d.filter((x) => x.status === 201)).toHaveLength(1);
    expect(d.filter((x) => x.status === 409)).toHaveLength(39);
    // Exactly one racer wins the version-2 slot; the rest see a conflict, none a 500.
    expect(r.filter((x) => x.status === 200)).toHaveLength(1);
    expect(r.filter((x) => x.status === 409)).toHaveLength(59);
    // Blind updates serialise: every one succeeds and the version counts them all.
    expect(b.every((x) => x.status === 200)).toBe(true);
    const pageA = await alice.get('/api/v1/products/PAGE-A');
    expect(pageA.body.version).toBe(61);

    const loadRows = await store.db.select({ n: count() }).from(store.tables.products);
    const created = await store.db.select({ n: count() }).from(store.tables.outbox).where(eq(store.tables.outbox.type, 'ProductCreated.v1'));
    const updated = await store.db.select({ n: count() }).from(store.tables.outbox).where(eq(store.tables.outbox.type, 'ProductUpdated.v1'));
    // One event per committed change, none for refused ones: state and outbox committed together.
    expect(created[0]!.n).toBe(loadRows[0]!.n);
    expect(updated[0]!.n).toBe(1 /* earlier update */ + 1 /* racer */ + 60 /* blind */);
  });
});
