// What an attacker or a careless client sends to the app's public port, each once: respelled
// paths with one Idempotency-Key, internals asked for on the public port, tokens that never
// expire, bodies nested thousands deep, broken percent-encoding, limits the domain would refuse
// later, control characters, a JSON merge patch. Every answer is a 4xx problem with a code and
// the request id, and nothing is done twice. Both engines: what one refuses the other must too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { count } from 'drizzle-orm';
import { bootApp, engines, type TestApp } from '../support/boot.ts';
import { client } from '../support/http.ts';
import { eventually } from '../support/eventually.ts';
import { TEST_JWT_SECRET, TEST_SERVICE_SECRET } from '../support/keys.ts';
import { serviceCredentials } from '../../src/platform/remote/service-credentials.ts';
import { actors, domainTestEnv } from './commerce-world.ts';

const sign = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(TEST_JWT_SECRET));
const now = () => Math.floor(Date.now() / 1000);

describe.each(engines)('the public edge on %s', (engine) => {
  let t: TestApp;
  let sku: string;
  let customer: { name: string; api: ReturnType<typeof client> };
  let admin: ReturnType<typeof client>;

  beforeAll(async () => {
    t = await bootApp({ engine, env: domainTestEnv });
    const a = await actors({ baseUrl: t.baseUrl, token: t.token });
    sku = await a.product(250, 100_000);
    customer = await a.customer();
    admin = a.admin;
  });
  afterAll(() => t?.close());

  const problem = async (res: Response) => {
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await res.json()) as { code: string; requestId: string; status: number; detail?: string };
    expect(body.code).toMatch(/^[A-Z][A-Za-z]+$/);
    expect(body.requestId).toBe(res.headers.get('x-request-id'));
    return body;
  };
  const raw = (path: string, init: RequestInit & { token?: string } = {}) =>
    fetch(`${t.baseUrl}${path}`, { ...init, headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...(init.headers as Record<string, string>) } });

  it('takes one order for one Idempotency-Key however the path is spelled, and refuses the other spellings', async () => {
    const token = await t.token(customer.name);
    const body = JSON.stringify({ items: [{ sku, quantity: 1 }] });
    const send = (path: string) => raw(path, { method: 'POST', token, body, headers: { 'content-type': 'application/json', 'idempotency-key': 'one-order' } });
    const first = await send('/api/v1/orders');
    expect(first.status).toBe(202);
    const { id } = (await first.json()) as { id: string };
    for (const spelling of ['/API/V1/ORDERS', '/api/v1/orders/', '/api/v1//orders', '//api/v1/orders', '/api/v1/%6Frders', '/api/v1/./orders']) {
      const again = await send(spelling);
      if (again.status === 202) {
        expect(again.headers.get('idempotent-replayed'), spelling).toBe('true');
        expect(((await again.json()) as { id: string }).id).toBe(id);
      } else {
        expect(again.status, spelling).toBe(404);
        await problem(again);
      }
    }
    expect((await send('/api/v1/orders')).headers.get('idempotent-replayed')).toBe('true');
    // Exactly one order, one saga: the store says so, not only the answers.
    const orders = t.app.stores.get('orders')!;
    const [row] = await orders.db.select({ n: count() }).from(orders.tables.orders as never);
    expect((row as unknown as { n: number }).n).toBe(1);
  });

  it('does not serve contract endpoints, metrics or admin routes on the public port, in any spelling, even with good credentials', async () => {
    const credential = await serviceCredentials({ secret: TEST_SERVICE_SECRET, deployable: 'attacker' }).serviceToken('payments');
    for (const path of ['/internal/contracts/payments/refund', '/INTERNAL/contracts/payments/refund', '/internal/contracts/payments/refund/']) {
      const res = await raw(path, { method: 'POST', token: credential, body: '{"input":{"orderId":"x","customerId":"y"}}', headers: { 'content-type': 'application/json' } });
      expect(res.status, path).toBe(404);
      await problem(res);
    }
    for (const path of ['/metrics', '/METRICS', '/Metrics/']) expect((await raw(path)).status, path).toBe(404);
    const adminToken = await t.token('ops', ['admin']);
    expect((await raw('/admin/dead-letters', { token: adminToken })).status).toBe(404);
    // They are on the internal listener.
    expect((await fetch(`${t.internalUrl}/metrics`)).status).toBe(200);
    expect((await fetch(`${t.internalUrl}/admin/dead-letters`, { headers: { authorization: `Bearer ${adminToken}` } })).status).toBe(200);
  });

  it('refuses a token signed with the key that used to be written in the source', async () => {
    const old = await new SignJWT({ scope: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('mallory').setExpirationTime('1h').sign(new TextEncoder().encode('dev-only-secret-change-me-0123456789abcdef'));
    const res = await raw('/api/v1/notifications/operations', { token: old });
    expect(res.status).toBe(401);
    await problem(res);
  });

  it('refuses tokens without an expiry, living a hundred years, or with control characters in the subject, whatever the case of Bearer', async () => {
    for (const claims of [{ sub: 'a' }, { sub: 'a', exp: now() + 100 * 365 * 24 * 3600 }, { sub: 'a\u0000b', exp: now() + 60 }]) {
      const res = await raw('/api/v1/customers/me/orders', { token: await sign(claims) });
      expect(res.status, JSON.stringify(claims)).toBe(401);
      expect((await problem(res)).code).toBe('Unauthenticated');
    }
    const good = await t.token(customer.name);
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      expect((await raw('/api/v1/customers/me/orders', { headers: { authorization: `${scheme} ${good}` } })).status, scheme).toBe(200);
    }
  });

  it('refuses a body nested thousands deep with 400, with or without an Idempotency-Key, before anything recursive runs', async () => {
    const deep = `${'['.repeat(3000)}${']'.repeat(3000)}`;
    const token = await t.token(customer.name);
    for (const key of [undefined, 'deep-1']) {
      const res = await raw('/api/v1/orders', { method: 'POST', token, body: `{"items":${deep}}`, headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) } });
      expect(res.status).toBe(400);
      expect((await problem(res)).code).toBe('BodyTooDeep');
    }
    expect((await raw('/health/live')).status).toBe(200);
  });

  it('answers 400 for malformed percent-encoding anywhere in a path', async () => {
    const token = await t.token(customer.name);
    for (const path of ['/api/v2/orders/%ZZ', '/api/v1/orders/%E0%A4%A', '/api/v1/%', '/api/v1/products/%C0']) {
      const res = await raw(path, { token });
      expect(res.status, path).toBe(400);
      expect((await problem(res)).code).toBe('MalformedPath');
    }
  });

  it('refuses at the edge what the domain would refuse later: lines of one sku adding up past the limit', async () => {
    const res = await customer.api.post('/api/v1/orders', { items: Array.from({ length: 11 }, () => ({ sku, quantity: 1000 })) }, { 'idempotency-key': 'too-many' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ValidationFailed');
    expect(JSON.stringify(res.body.errors)).toMatch(/add up to 11000/);
    // Lines of the same sku that fit together are one line of the order.
    const ok = await customer.api.post('/api/v1/orders', { items: [{ sku, quantity: 2 }, { sku, quantity: 3 }] }, { 'idempotency-key': 'merged' });
    expect(ok.status).toBe(202);
    const order = await customer.api.get(`/api/v2/orders/${ok.body.id}`);
    expect(order.body.lines.map((l: { sku: string; quantity: number }) => [l.sku, l.quantity])).toEqual([[sku, 5]]);
  });

  it('refuses control characters in text fields the same way on both engines', async () => {
    for (const [name, description] of [['Tea\u0000pot', 'fine'], ['Tea\u001b[31mpot', 'fine'], ['Teapot', 'bell\u0007']]) {
      const res = await admin.post('/api/v1/products', { sku: `CTRL-${Math.floor(Math.random() * 1e6)}`, name, description, priceMinor: 100, currency: 'EUR' });
      expect(res.status, JSON.stringify(name)).toBe(400);
      expect(['ValidationFailed', 'ControlCharacter']).toContain(res.body.code);
    }
    // Line breaks and tabs are fine in a description.
    expect((await admin.post('/api/v1/products', { sku: 'CTRL-OK', name: 'Teapot', description: 'Two lines\nand a\ttab', priceMinor: 100, currency: 'EUR' })).status).toBe(201);
  });

  it('reads a PATCH sent as application/merge-patch+json', async () => {
    const res = await admin.call('PATCH', `/api/v1/products/${sku}`, { name: 'Renamed by merge patch' }, { 'content-type': 'application/merge-patch+json' });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Renamed by merge patch');
    const refused = await admin.call('PATCH', `/api/v1/products/${sku}`, 'name=x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(refused.status).toBe(415);
  });

  it('is still alive and consistent after all of it', async () => {
    expect((await raw('/health/ready')).status).toBe(200);
    await eventually(async () => (await customer.api.get('/api/v1/customers/me/orders')).body.items.length >= 2, 'history caught up');
  });
});
