// The proxy's own probes and Prometheus metrics per route and side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, token, type Upstream, startTwoSides, stopTwoSides, type TwoSides } from './helpers.ts';

let old: Upstream;
let fresh: Upstream;
let proxy: TwoSides['proxy'];

beforeAll(async () => {
  ({ old, fresh, proxy } = await startTwoSides({ weight: 0 }));
});
afterAll(() => stopTwoSides({ old, fresh, proxy }));

describe('probes and metrics', () => {
  it('answers /health/live, /health/ready and /health/started itself', async () => {
    for (const probe of ['/health/live', '/health/ready', '/health/started']) {
      expect((await request(proxy.url, probe)).status).toBe(200);
    }
    expect(old.seen.filter((s) => s.url.startsWith('/health'))).toHaveLength(0);
  });

  it('exposes requests and latency per route and side, weights and canary state', async () => {
    await request(proxy.url, '/api/v1/orders/1');
    await request(proxy.url, '/api/v1/orders/1', { headers: { 'x-proxy-side': 'new', authorization: `Bearer ${await token('tess', 'tester')}` } });
    await request(proxy.url, '/elsewhere');
    const reply = await request(proxy.internalUrl, '/metrics');
    expect(reply.headers['content-type']).toContain('text/plain');
    const text = reply.body;
    expect(text).toContain('proxy_requests_total{route="orders",side="old",code="2xx"} 1');
    expect(text).toContain('proxy_requests_total{route="orders",side="new",code="2xx"} 1');
    expect(text).toContain('proxy_requests_total{route="(default)",side="old",code="2xx"} 1');
    expect(text).toMatch(/proxy_request_duration_seconds_count\{route="orders",side="new"\} 1/);
    expect(text).toContain('proxy_route_weight{route="orders"} 0');
    expect(text).toContain('proxy_canary_state{route="orders"} 0');
    // Process metrics under the proxy's prefix once, not twice.
    expect(text).toContain('proxy_process_cpu_user_seconds_total');
    expect(text).not.toContain('proxy_process_process_');
  });

  it('answers problem+json for an unknown admin path', async () => {
    const reply = await request(proxy.internalUrl, '/_proxy/nothing');
    expect(reply.headers['content-type']).toBe('application/problem+json');
  });

  it('reuses upstream connections from its keep-alive pool', async () => {
    let connections = 0;
    const count = () => connections++;
    old.server.on('connection', count);
    try {
      for (let i = 0; i < 50; i++) expect((await request(proxy.url, `/pooled/${i}`)).status).toBe(200);
    } finally {
      old.server.off('connection', count);
    }
    // Sequential requests: at most one new connection (the pool may already hold one).
    expect(connections).toBeLessThanOrEqual(1);
  });
});

