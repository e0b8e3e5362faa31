import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, token, type Upstream, startTwoSides, stopTwoSides, type TwoSides } from './helpers.ts';
import { bucketOf, sideFor } from '../src/side-assignment.ts';

let old: Upstream;
let fresh: Upstream;
let proxy: TwoSides['proxy'];

beforeAll(async () => {
  ({ old, fresh, proxy } = await startTwoSides());
});
afterAll(() => stopTwoSides({ old, fresh, proxy }));

const served = async (path: string, headers: Record<string, string> = {}) =>
  (await request(proxy.url, path, { headers })).json<{ upstream: string }>().upstream;

describe('weighted, sticky routing', () => {
  it('sends nothing to the new side at weight 0 and everything at weight 100', async () => {
    proxy.setWeight('orders', 0);
    for (let i = 0; i < 20; i++) expect(await served('/api/v1/orders/1', { authorization: `Bearer ${await token(`u${i}`)}` })).toBe('monolith');
    proxy.setWeight('orders', 100);
    for (let i = 0; i < 20; i++) expect(await served('/api/v1/orders/1', { authorization: `Bearer ${await token(`u${i}`)}` })).toBe('orders');
  });

  it('sends unmatched paths and prefix look-alikes to the default pool', async () => {
    proxy.setWeight('orders', 100);
    expect(await served('/api/v1/products')).toBe('monolith');
    expect(await served('/api/v1/ordersX')).toBe('monolith');
    expect(await served('/api/v1/orders?page=2')).toBe('orders');
  });

  it('keeps a user on one side at a given weight, and raising the weight only moves users to the new side', async () => {
    const users = await Promise.all(Array.from({ length: 200 }, (_, i) => token(`user-${i}`)));
    let previous = new Set<number>();
    for (const weight of [10, 20, 35, 50, 80]) {
      proxy.setWeight('orders', weight);
      const onNew = new Set<number>();
      for (let i = 0; i < users.length; i++) {
        const first = await served('/api/v1/orders/1', { authorization: `Bearer ${users[i]}` });
        const again = await served('/api/v1/orders/2', { authorization: `Bearer ${users[i]}` });
        expect(again).toBe(first);
        if (first === 'orders') onNew.add(i);
      }
      for (const i of previous) expect(onNew.has(i)).toBe(true);
      // Roughly the weight's share of users (hash buckets, 200 users).
      expect(onNew.size).toBeGreaterThan(users.length * (weight / 100) * 0.5);
      expect(onNew.size).toBeLessThan(users.length * (weight / 100) * 1.5 + 10);
      previous = onNew;
    }
  });

  it('gives a client without a token a cookie that keeps it on its side', async () => {
    proxy.setWeight('orders', 50);
    const first = await request(proxy.url, '/api/v1/orders/1');
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    expect(cookie).toMatch(/^proxy_uid=/);
    const side = first.json<{ upstream: string }>().upstream;
    for (let i = 0; i < 10; i++) expect(await served('/api/v1/orders/1', { cookie })).toBe(side);
  });

  it('lets a tester force a side with the override header', async () => {
    const tester = { authorization: `Bearer ${await token('tess', 'tester')}` };
    proxy.setWeight('orders', 0);
    expect(await served('/api/v1/orders/1', { 'x-proxy-side': 'new', ...tester })).toBe('orders');
    proxy.setWeight('orders', 100);
    expect(await served('/api/v1/orders/1', { 'x-proxy-side': 'old', ...tester })).toBe('monolith');
  });

  it('buckets are independent of the weight, so assignment is monotonic in the weight', () => {
    for (let u = 0; u < 500; u++) {
      const b = bucketOf(`sub:${u}`, 'orders');
      for (let w = 0; w <= 100; w++) expect(sideFor(w, `sub:${u}`, 'orders')).toBe(b < w ? 'new' : 'old');
    }
  });
});

describe('edge headers', () => {
  it('creates X-Request-Id and traceparent and sets X-Forwarded-*', async () => {
    proxy.setWeight('orders', 0);
    old.seen.length = 0;
    const reply = await request(proxy.url, '/api/v1/orders/9', { headers: { host: 'shop.example' } });
    const seen = old.seen.at(-1)!;
    expect(seen.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(reply.headers['x-request-id']).toBe(seen.headers['x-request-id']);
    expect(seen.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-host']).toBe('shop.example');
  });

  it('propagates a caller’s X-Request-Id and trace id, with the proxy as the parent span', async () => {
    old.seen.length = 0;
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await request(proxy.url, '/api/v1/orders/9', {
      headers: { 'x-request-id': 'req-42', traceparent: `00-${traceId}-00f067aa0ba902b7-01`, 'x-forwarded-for': '203.0.113.9' },
    });
    const seen = old.seen.at(-1)!;
    expect(seen.headers['x-request-id']).toBe('req-42');
    expect(seen.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(seen.headers.traceparent).not.toContain('00f067aa0ba902b7');
    expect(seen.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
  });
});
