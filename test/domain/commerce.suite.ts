// The commerce domain end to end, through HTTP only, so it holds in every topology (parity).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { actors, settled, type World } from './commerce-world.ts';
import { responseChecker } from '../openapi/response-conformance.ts';

export function commerceSuite(name: string, start: () => Promise<World & { close: () => Promise<void> }>) {
  describe(name, () => {
    let world: World & { close: () => Promise<void> };
    let a: Awaited<ReturnType<typeof actors>>;
    // Every answer the scenarios get is checked against the OpenAPI document the system serves
    // where they send their requests (the proxy's, when modules are extracted).
    const answers = { checked: 0, violations: [] as string[] };

    beforeAll(async () => {
      world = await start();
      const document = await (await fetch(`${world.baseUrl}/openapi.json`)).json();
      const conformance = responseChecker(document);
      world.observe = (method, path, reply, contentType) => {
        answers.checked++;
        const violation = conformance.check(method, path, reply.status, contentType, reply.body);
        if (violation) answers.violations.push(violation);
      };
      a = await actors(world);
    }, 300_000);
    afterAll(() => world?.close(), 60_000);

    it('confirms an order: stock taken, payment captured, customer notified, history updated', async () => {
      const sku = await a.product(1250, 10);
      const { name, api } = await a.customer();
      const placed = await api.post('/api/v1/orders', { items: [{ sku, quantity: 2 }] }, { 'idempotency-key': `k-${name}` });
      expect(placed.status).toBe(202);
      expect(placed.headers.get('location')).toBe(`/api/v1/orders/${placed.body.id}`);
      expect(placed.body).toEqual({ id: placed.body.id, status: 'PENDING' });

      const order = await settled(api, placed.body.id);
      expect(order).toMatchObject({ status: 'CONFIRMED', totalMinor: 2500, currency: 'EUR', items: [{ sku, quantity: 2, unitPriceMinor: 1250 }] });
      expect((await api.get(`/api/v1/inventory/${sku}`)).body).toMatchObject({ onHand: 8, reserved: 0, available: 8 });
      expect((await api.get('/api/v1/accounts/me')).body).toMatchObject({ customerId: name, capturedMinor: 2500, refundedMinor: 0, netMinor: 2500 });
      await eventually(async () => (await api.get('/api/v1/customers/me/notifications')).body.items.some((n: any) => n.kind === 'order_confirmed' && n.orderId === placed.body.id), 'confirmation notice');
      await eventually(async () => (await api.get('/api/v1/customers/me/orders')).body.items.find((o: any) => o.orderId === placed.body.id && o.status === 'CONFIRMED'), 'history shows it');
    });

    it('cancels with out_of_stock and takes nothing', async () => {
      const sku = await a.product(500, 1);
      const { api } = await a.customer();
      const placed = await api.post('/api/v1/orders', { items: [{ sku, quantity: 2 }] });
      expect(await settled(api, placed.body.id)).toMatchObject({ status: 'CANCELLED', reason: 'out_of_stock' });
      expect((await api.get(`/api/v1/inventory/${sku}`)).body).toMatchObject({ onHand: 1, reserved: 0 });
      expect((await api.get('/api/v1/accounts/me')).body.capturedMinor).toBe(0);
    });

    it('releases the reservation when the payment is declined', async () => {
      const sku = await a.product(700, 5);
      const { api } = await a.customer();
      const placed = await api.post('/api/v1/orders', { items: [{ sku, quantity: 3 }], paymentMethod: 'tok_decline' });
      expect(await settled(api, placed.body.id)).toMatchObject({ status: 'CANCELLED', reason: 'payment_declined' });
      expect((await api.get(`/api/v1/inventory/${sku}`)).body).toMatchObject({ onHand: 5, reserved: 0, available: 5 });
      expect((await api.get('/api/v1/accounts/me')).body).toMatchObject({ capturedMinor: 0, netMinor: 0 });
      await eventually(async () => (await api.get('/api/v1/customers/me/notifications')).body.items.some((n: any) => n.kind === 'order_cancelled' && n.body.includes('declined')), 'cancellation notice');
    });

    it.each(['tok_fail', 'tok_slow'])('compensates with payment_unavailable when the provider fails (%s)', async (token) => {
      const sku = await a.product(900, 4);
      const { api } = await a.customer();
      const placed = await api.post('/api/v1/orders', { items: [{ sku, quantity: 1 }], paymentMethod: token });
      expect(await settled(api, placed.body.id)).toMatchObject({ status: 'CANCELLED', reason: 'payment_unavailable' });
      expect((await api.get(`/api/v1/inventory/${sku}`)).body).toMatchObject({ onHand: 4, reserved: 0 });
      expect((await api.get('/api/v1/accounts/me')).body).toMatchObject({ capturedMinor: 0, netMinor: 0 });
    });

    it('answers a repeated Idempotency-Key with the first response and refuses a different body', async () => {
      const sku = await a.product(100, 50);
      const { api } = await a.customer();
      const body = { items: [{ sku, quantity: 1 }] };
      const first = await api.post('/api/v1/orders', body, { 'idempotency-key': 'same-key' });
      const again = await api.post('/api/v1/orders', body, { 'idempotency-key': 'same-key' });
      expect(again.status).toBe(202);
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      const other = await api.post('/api/v1/orders', { items: [{ sku, quantity: 2 }] }, { 'idempotency-key': 'same-key' });
      expect(other.status).toBe(422);
      expect(other.body.code).toBe('IdempotencyKeyReused');
      await settled(api, first.body.id);
      // The history is a read model: it shows the order settled once its events are projected
      // (the settling event comes after any placement's). Then it must hold that one order, and
      // no second from the replay or the refused body.
      const history = async () => (await api.get('/api/v1/customers/me/orders')).body.items as { orderId: string; status: string }[];
      await eventually(async () => (await history()).some((o) => o.orderId === first.body.id && o.status !== 'PENDING'), 'the settled order in history');
      expect(await history()).toHaveLength(1);
    });

    it('turns 50 concurrent identical requests into one order, one charge and one reservation', async () => {
      const sku = await a.product(300, 100);
      const { api } = await a.customer();
      const replies = await Promise.all(
        Array.from({ length: 50 }, () => api.post('/api/v1/orders', { items: [{ sku, quantity: 1 }] }, { 'idempotency-key': 'burst-1' })),
      );
      expect(replies.every((r) => r.status === 202)).toBe(true);
      const ids = new Set(replies.map((r) => r.body.id));
      expect(ids.size).toBe(1);
      await settled(api, [...ids][0]!);
      expect((await api.get(`/api/v1/inventory/${sku}`)).body).toMatchObject({ onHand: 99, reserved: 0 });
      expect((await api.get('/api/v1/accounts/me')).body).toMatchObject({ capturedMinor: 300, payments: 1 });
      await eventually(async () => (await api.get('/api/v1/customers/me/orders')).body.items.length === 1 && true, 'one order in history');
    });

    it('turns concurrent identical product creations with one key into one product, the others replays', async () => {
      const sku = `DUP-${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
      const body = { sku, name: 'Twice', priceMinor: 100, currency: 'EUR' };
      const replies = await Promise.all(Array.from({ length: 10 }, () => a.admin.post('/api/v1/products', body, { 'idempotency-key': `create-${sku}` })));
      expect(replies.map((r) => r.status)).toEqual(Array(10).fill(201));
      expect(replies.filter((r) => r.headers.get('idempotent-replayed') === null)).toHaveLength(1);
      for (const r of replies) expect(r.body).toEqual(replies[0]!.body);
    });

    it("hides another customer's order and lets an admin see it", async () => {
      const sku = await a.product(100, 5);
      const alice = await a.customer();
      const bob = await a.customer();
      const placed = await alice.api.post('/api/v1/orders', { items: [{ sku, quantity: 1 }] });
      expect((await bob.api.get(`/api/v1/orders/${placed.body.id}`)).status).toBe(404);
      expect((await bob.api.get(`/api/v2/orders/${placed.body.id}`)).status).toBe(404);
      expect((await a.admin.get(`/api/v1/orders/${placed.body.id}`)).status).toBe(200);
      expect((await bob.api.get('/api/v1/customers/me/orders')).body.items).toHaveLength(0);
    });

    it('serves /api/v2/orders beside a deprecated v1', async () => {
      const sku = await a.product(450, 5);
      const { name, api } = await a.customer();
      const placed = await api.post('/api/v1/orders', { items: [{ sku, quantity: 2 }] });
      await settled(api, placed.body.id);
      const v1 = await api.get(`/api/v1/orders/${placed.body.id}`);
      expect(v1.headers.get('deprecation')).toMatch(/^@\d+$/);
      expect(v1.headers.get('sunset')).toMatch(/GMT$/);
      expect(v1.headers.get('link')).toBe(`</api/v2/orders/${placed.body.id}>; rel="successor-version"`);
      const v2 = await api.get(`/api/v2/orders/${placed.body.id}`);
      expect(v2.headers.get('deprecation')).toBeNull();
      expect(v2.body).toMatchObject({
        id: placed.body.id,
        state: { code: 'CONFIRMED', reason: null, final: true },
        customer: { id: name },
        total: { amountMinor: 900, currency: 'EUR' },
        lines: [{ sku, quantity: 2, unitPrice: { amountMinor: 450, currency: 'EUR' } }],
      });
    });

    it('answers the account as of a past moment', async () => {
      const sku = await a.product(1000, 5);
      const { api } = await a.customer();
      const before = new Date().toISOString();
      const placed = await api.post('/api/v1/orders', { items: [{ sku, quantity: 1 }] });
      await settled(api, placed.body.id);
      expect((await api.get('/api/v1/accounts/me')).body.netMinor).toBe(1000);
      expect((await api.get(`/api/v1/accounts/me?at=${encodeURIComponent(before)}`)).body).toMatchObject({ capturedMinor: 0, netMinor: 0, asOf: before });
      expect((await api.get('/api/v1/accounts/me?at=yesterday')).status).toBe(400);
    });

    it('tells operations when stock runs low', async () => {
      const sku = await a.product(100, 5, 3);
      const { api } = await a.customer();
      const placed = await api.post('/api/v1/orders', { items: [{ sku, quantity: 3 }] });
      await settled(api, placed.body.id);
      await eventually(async () => (await a.admin.get('/api/v1/notifications/operations')).body.items.some((n: any) => n.kind === 'low_stock' && n.subject.includes(sku)), 'low-stock notice');
      expect((await api.get('/api/v1/notifications/operations')).status).toBe(403);
    });

    it('refuses bad input with precise problems and writes nothing', async () => {
      const sku = await a.product(100, 5);
      const { api } = await a.customer();
      const cases: [string, () => Promise<{ status: number; body: any; headers: Headers }>, number, string][] = [
        ['no token', () => fetch(`${world.baseUrl}/api/v1/orders`, { method: 'POST' }).then(async (r) => ({ status: r.status, body: await r.json(), headers: r.headers })), 401, 'Unauthenticated'],
        ['malformed JSON', () => api.post('/api/v1/orders', '{"items": ['), 400, 'MalformedJson'],
        ['no items', () => api.post('/api/v1/orders', { items: [] }), 400, 'ValidationFailed'],
        ['zero quantity', () => api.post('/api/v1/orders', { items: [{ sku, quantity: 0 }] }), 400, 'ValidationFailed'],
        ['negative quantity', () => api.post('/api/v1/orders', { items: [{ sku, quantity: -2 }] }), 400, 'ValidationFailed'],
        ['fractional quantity', () => api.post('/api/v1/orders', { items: [{ sku, quantity: 1.5 }] }), 400, 'ValidationFailed'],
        ['quantity as text', () => api.post('/api/v1/orders', { items: [{ sku, quantity: '1' }] }), 400, 'ValidationFailed'],
        ['unknown token', () => api.post('/api/v1/orders', { items: [{ sku, quantity: 1 }], paymentMethod: 'tok_free' }), 400, 'ValidationFailed'],
        ['unknown sku', () => api.post('/api/v1/orders', { items: [{ sku: 'NO-SUCH-SKU', quantity: 1 }] }), 422, 'UnknownProducts'],
        ['bad key', () => api.post('/api/v1/orders', { items: [{ sku, quantity: 1 }] }, { 'idempotency-key': 'spaces are not allowed' }), 400, 'ValidationFailed'],
        ['oversized', () => api.post('/api/v1/orders', { items: [{ sku, quantity: 1 }], pad: 'x'.repeat(200_000) }), 413, 'BodyTooLarge'],
        ['bad order id', () => api.get('/api/v1/orders/not-a-uuid'), 400, 'ValidationFailed'],
        ['missing order', () => api.get('/api/v1/orders/00000000-0000-4000-8000-000000000000'), 404, 'NotFound'],
        ['restock without admin', () => api.post(`/api/v1/inventory/${sku}/restock`, { quantity: 5 }), 403, 'Forbidden'],
      ];
      for (const [what, send, status, code] of cases) {
        const r = await send();
        expect(r.status, what).toBe(status);
        expect(r.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
        expect(r.body.code, what).toBe(code);
      }
      expect((await api.get('/api/v1/customers/me/orders')).body.items).toHaveLength(0);
      expect((await api.get(`/api/v1/inventory/${sku}`)).body).toMatchObject({ onHand: 5, reserved: 0 });
    });

    it('every answer the scenarios received conforms to the OpenAPI document', () => {
      expect(answers.violations).toEqual([]);
      expect(answers.checked).toBeGreaterThan(50);
    });
  });
}
