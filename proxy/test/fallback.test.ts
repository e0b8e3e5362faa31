// A request that is safe to repeat (GET, HEAD, or with an Idempotency-Key) is
// retried once on the other side when the chosen side is unreachable or answers 502/503/504.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startUpstream, proxyWith, request, type Upstream, startTwoSides, stopTwoSides, type TwoSides } from './helpers.ts';

let old: Upstream;
let fresh: Upstream;
let proxy: TwoSides['proxy'];

beforeAll(async () => {
  ({ old, fresh, proxy } = await startTwoSides({ weight: 100 }));
});
afterAll(() => stopTwoSides({ old, fresh, proxy }));
beforeEach(() => {
  fresh.behave(undefined);
  old.seen.length = 0;
  fresh.seen.length = 0;
});

const failing = (status: number) => (req: { url: string }, res: import('node:http').ServerResponse) => {
  if (req.url === '/health/ready') return void res.end('ok');
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end('upstream trouble');
};
const fallbacks = async () => {
  const m = /proxy_fallbacks_total\{route="orders",from="new",to="old"\} (\d+)/.exec((await request(proxy.internalUrl, '/metrics')).body);
  return Number(m?.[1] ?? 0);
};

describe('fallback to the other side', () => {
  for (const status of [502, 503, 504]) {
    it(`retries a GET on the old side when the new side answers ${status}, and counts it`, async () => {
      fresh.behave(failing(status));
      const before = await fallbacks();
      const reply = await request(proxy.url, '/api/v1/orders/1');
      expect(reply.status).toBe(200);
      expect(reply.json().upstream).toBe('monolith');
      expect(fresh.seen).toHaveLength(1);
      expect(await fallbacks()).toBe(before + 1);
    });
  }

  it('retries a POST with an Idempotency-Key, with its body intact', async () => {
    fresh.behave(failing(503));
    const body = JSON.stringify({ items: [{ sku: 'A-1', quantity: 2 }], pad: 'é'.repeat(5000) });
    const reply = await request(proxy.url, '/api/v1/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k-1' },
      body,
    });
    expect(reply.status).toBe(200);
    expect(fresh.seen[0]!.body).toBe(body);
    expect(old.seen[0]!.body).toBe(body);
    expect(reply.json().body).toBe(body);
  });

  it('does not retry a POST without an Idempotency-Key: the 503 reaches the client', async () => {
    fresh.behave(failing(503));
    const reply = await request(proxy.url, '/api/v1/orders', { method: 'POST', body: '{"a":1}' });
    expect(reply.status).toBe(503);
    expect(old.seen).toHaveLength(0);
  });

  it('passes a 500 through: only 502/503/504 mean "this side cannot answer"', async () => {
    fresh.behave(failing(500));
    expect((await request(proxy.url, '/api/v1/orders/1')).status).toBe(500);
    expect(old.seen).toHaveLength(0);
  });

  it('falls back when the new side refuses connections', async () => {
    const gone = await startUpstream('gone');
    const port = gone.port;
    await gone.close();
    const p = await proxyWith({
      pools: { monolith: { instances: [old.url] }, orders: { instances: [`http://127.0.0.1:${port}`] } },
      routes: [{ name: 'orders', prefix: '/api/v1/orders', old: 'monolith', new: 'orders', weight: 100 }],
    });
    try {
      const get = await request(p.url, '/api/v1/orders/1');
      expect(get.status).toBe(200);
      expect(get.json().upstream).toBe('monolith');
      // A refused connection never reached anything: even a POST without a key may go elsewhere.
      const post = await request(p.url, '/api/v1/orders', { method: 'POST', body: 'x' });
      expect(post.status).toBe(200);
      expect(post.json()).toMatchObject({ upstream: 'monolith', body: 'x' });
      expect((await request(p.internalUrl, '/metrics')).body).toMatch(/proxy_fallbacks_total\{route="orders",from="new",to="old"\} 2/);
    } finally {
      await p.close();
    }
  });

  it('answers 504 when the chosen side does not answer in time, falling back for a GET', async () => {
    const slow = await startUpstream('slow');
    slow.behave((req, res) => {
      if (req.url === '/health/ready') return void res.end('ok');
      // never answers: the proxy's upstream timeout must fire
    });
    const p = await proxyWith({
      pools: { monolith: { instances: [old.url] }, orders: { instances: [slow.url] } },
      routes: [{ name: 'orders', prefix: '/api/v1/orders', old: 'monolith', new: 'orders', weight: 100 }],
      upstreamTimeoutMs: 300,
    });
    try {
      const get = await request(p.url, '/api/v1/orders/1');
      expect(get.status).toBe(200);
      expect(get.json().upstream).toBe('monolith');
      const post = await request(p.url, '/api/v1/orders', { method: 'POST', body: '{}' });
      expect(post.status).toBe(504);
      expect(post.json()).toMatchObject({ status: 504, title: 'Gateway Timeout' });
    } finally {
      await p.close();
      await slow.close();
    }
  });
});
