// Parity: the same catalog end-to-end suite (and a first order) in three topologies — everything
// in-process; inventory and payments extracted; every module extracted — against real processes,
// through the strangler proxy when anything runs apart. The domain suite plugs into the same
// harness (test/support/topologies.ts) the same way.
import { describe, expect, it } from 'vitest';
import { topologies, useSystem } from '../support/topologies.ts';
import { client } from '../support/http.ts';
import { eventually } from '../support/eventually.ts';

describe.each(topologies.map((t) => [t.name, t] as const))('catalog end to end, %s', (_name, topology) => {
  // Seeded: the demo products and their stock, so an order can go through.
  const sys = useSystem(topology, { env: { SEED: 'true' } });
  const as = async (sub: string, scopes: string[] = []) => client(sys().baseUrl, await sys().token(sub, scopes));

  it('runs the topology it claims', () => {
    const expected = topology.extracted === 'all' ? sys().extracted.length > 0 : true;
    expect(expected).toBe(true);
    if (topology.extracted === 'all') expect(sys().extracted).toContain('catalog');
    if (sys().extracted.length) expect(sys().baseUrl).not.toBe(sys().monolithUrl);
  });

  it('creates a product and reads it back, in the list and by sku', async () => {
    const admin = await as('root', ['admin']);
    const alice = await as('alice');
    const created = await admin.post('/api/v1/products', { sku: 'PARITY-1', name: 'Parity tea', priceMinor: 990, currency: 'EUR' });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/products/PARITY-1');
    expect((await alice.get('/api/v1/products/PARITY-1')).body).toEqual(created.body);
    const list = await alice.get('/api/v1/products?currency=EUR&q=parity');
    expect(list.body.items.map((p: { sku: string }) => p.sku)).toEqual(['PARITY-1']);
  });

  it('updates with optimistic concurrency', async () => {
    const admin = await as('root', ['admin']);
    const ok = await admin.patch('/api/v1/products/PARITY-1', { priceMinor: 1090, expectedVersion: 1 });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ priceMinor: 1090, version: 2 });
    const stale = await admin.patch('/api/v1/products/PARITY-1', { priceMinor: 1190, expectedVersion: 1 });
    expect(stale.status).toBe(409);
    expect(stale.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it('answers the same problems for the same mistakes', async () => {
    const alice = await as('alice');
    const admin = await as('root', ['admin']);
    const cases: [string, () => Promise<{ status: number; body: any; headers: Headers }>, number, string][] = [
      ['missing token', () => client(sys().baseUrl).get('/api/v1/products'), 401, 'Unauthenticated'],
      ['not admin', () => alice.post('/api/v1/products', { sku: 'PARITY-2', name: 'x', priceMinor: 1, currency: 'EUR' }), 403, 'Forbidden'],
      ['invalid body', () => admin.post('/api/v1/products', { sku: 'x', name: '', priceMinor: 1.5, currency: 'euro' }), 400, 'ValidationFailed'],
      ['unknown product', () => alice.get('/api/v1/products/PARITY-404'), 404, 'ProductNotFound'],
    ];
    for (const [what, send, status, code] of cases) {
      const reply = await send();
      expect(reply.status, what).toBe(status);
      expect(reply.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
      expect(reply.body.code, what).toBe(code);
    }
  });

  it('places an order that the saga confirms across the topology (a first step of the domain suite)', async () => {
    const bob = await as('bob');
    const placed = await bob.post('/api/v1/orders', { items: [{ sku: 'TEA-GREEN-100', quantity: 1 }] }, { 'idempotency-key': `parity-${topology.name.replace(/\W+/g, '-')}` });
    expect(placed.status).toBe(202);
    const location = placed.headers.get('location')!;
    const settled = await eventually(async () => {
      const r = await bob.get(location);
      return r.body.status !== 'PENDING' ? r : undefined;
    }, 'the order to settle', 60_000, 100);
    expect(settled.body).toMatchObject({ status: 'CONFIRMED', totalMinor: 1250, currency: 'EUR' });
  }, 120_000);
});
