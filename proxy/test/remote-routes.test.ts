// Who serves a route once its module is remote, and what a refused connection may do. A route
// without an old side sends nothing to the monolith, whatever happens: no fallback, no weight, no
// rollback; when its service is down the client is told so with a 503 and when to come back. A
// connection that was refused never reached anything, so a request of any method may go to
// another instance or the other side, and that is counted.
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { proxyWith, request, startUpstream, tempConfig, token, type Upstream } from './helpers.ts';
import { finishRoutes } from '../src/config-edit.ts';
import { parseConfigText, readRawConfig, writeConfig } from '../src/config-file.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});
async function upstream(name: string): Promise<Upstream> {
  const u = await startUpstream(name);
  cleanup.push(() => u.close());
  return u;
}
/** An address where nothing listens: connections to it are refused. */
async function refusingUrl(): Promise<string> {
  const u = await startUpstream('gone');
  await u.close();
  return u.url;
}
async function proxy(config: Parameters<typeof proxyWith>[0]) {
  const p = await proxyWith(config);
  cleanup.push(() => p.close());
  return p;
}
const metric = async (p: { internalUrl: string }, name: string) =>
  (await request(p.internalUrl, '/metrics')).body.split('\n').filter((l) => l.startsWith(`${name}{`));

describe('a route whose module is remote (no old side)', () => {
  it('answers 503 with a code and Retry-After when every instance of its service refuses, and never asks the monolith', async () => {
    const monolith = await upstream('monolith');
    const p = await proxy({
      pools: { monolith: { instances: [monolith.url] }, orders: { instances: [await refusingUrl(), await refusingUrl()], healthCheck: { intervalMs: 2000 } } },
      routes: [{ name: 'orders', prefix: '/api/v1/orders', new: 'orders' }],
    });
    for (const method of ['GET', 'POST']) {
      const reply = await request(p.url, '/api/v1/orders/1', { method, headers: { 'idempotency-key': 'k-1' }, body: method === 'POST' ? '{}' : undefined });
      expect(reply.status).toBe(503);
      expect(reply.headers['retry-after']).toBe('2');
      expect(reply.json()).toMatchObject({ status: 503, code: 'UpstreamUnavailable', requestId: reply.headers['x-request-id'] });
    }
    expect(monolith.seen).toEqual([]);
    expect(await metric(p, 'proxy_fallbacks_total')).toEqual([]);
  });

  it('passes its service’s own 503 through instead of falling back, and refuses a weight change', async () => {
    const monolith = await upstream('monolith');
    const service = await upstream('orders');
    service.behave((req, res) => (req.url === '/health/ready' ? res.end('ok') : (res.writeHead(503, { 'content-type': 'text/plain' }), res.end('busy'))));
    const p = await proxy({
      pools: { monolith: { instances: [monolith.url] }, orders: { instances: [service.url] } },
      routes: [{ name: 'orders', prefix: '/api/v1/orders', new: 'orders', weight: 100 }],
    });
    expect((await request(p.url, '/api/v1/orders/1')).status).toBe(503);
    const admin = { authorization: `Bearer ${await token('ops', 'admin')}`, 'content-type': 'application/json' };
    const set = await request(p.internalUrl, '/_proxy/routes/orders/weight', { method: 'PUT', headers: admin, body: '{"weight":0}' });
    expect(set.status).toBe(409);
    expect(set.json()).toMatchObject({ code: 'SingleSidedRoute' });
    const tester = { authorization: `Bearer ${await token('tess', 'tester')}`, 'x-proxy-side': 'old' };
    expect((await request(p.url, '/api/v1/orders/1', { headers: tester })).status).toBe(503);
    expect(monolith.seen).toEqual([]);
  });

  it('cannot be given a canary, a shadow or a weight below 100 in the file', () => {
    const base = { pools: { monolith: { instances: ['http://127.0.0.1:1'] }, orders: { instances: ['http://127.0.0.1:2'] } } };
    const route = { name: 'orders', prefix: '/api/v1/orders', new: 'orders' };
    expect(parseConfigText(JSON.stringify({ ...base, routes: [route] })).routes[0]).toMatchObject({ weight: 100 });
    expect(() => parseConfigText(JSON.stringify({ ...base, routes: [{ ...route, weight: 0 }] }))).toThrow(/routes\.0\.weight: route "orders" has no old side/);
    expect(() => parseConfigText(JSON.stringify({ ...base, routes: [{ ...route, canary: { steps: [{ weight: 50, dwellMs: 100 }] } }] }))).toThrow(/routes\.0\.canary/);
    expect(() => parseConfigText(JSON.stringify({ ...base, routes: [{ ...route, shadow: { percent: 5 } }] }))).toThrow(/routes\.0\.shadow/);
  });

  it('is what finishing an extraction writes: old side, canary and shadow gone from the module’s routes, the rest of the file as it was', () => {
    const text = `{
    "pools": {
        "monolith": { "instances": ["http://127.0.0.1:3000"] },
        "orders": { "instances": ["http://127.0.0.1:4001"] }
    },
    "routes": [
        { "name": "orders", "prefix": "/api/v1/orders", "old": "monolith", "new": "orders", "weight": 40, "shadow": { "percent": 5 }, "canary": { "steps": [{ "weight": 50, "dwellMs": 1000 }] } },
        { "name": "orders-2", "prefix": "/api/v2/orders", "old": "monolith", "new": "orders", "weight": 40 },
        { "name": "catalog", "prefix": "/api/v1/products", "old": "monolith", "new": "monolith" }
    ]
}
`;
    const path = tempConfig({ pools: {} } as never);
    writeFileSync(path, text);
    writeConfig(path, finishRoutes(readRawConfig(path), 'orders'));
    const after = readFileSync(path, 'utf8');
    expect(JSON.parse(after).routes).toEqual([
      { name: 'orders', prefix: '/api/v1/orders', new: 'orders', weight: 100 },
      { name: 'orders-2', prefix: '/api/v2/orders', new: 'orders', weight: 100 },
      { name: 'catalog', prefix: '/api/v1/products', old: 'monolith', new: 'monolith' },
    ]);
    // Untouched lines stay as written (inline arrays, four spaces).
    for (const line of [0, 1, 2, 3, 4, 5, 9]) expect(after.split('\n')[line]).toBe(text.split('\n')[line]);
  });
});

describe('a refused connection', () => {
  it('sends a POST without an Idempotency-Key, streamed body and all, to the other side, and counts it', async () => {
    const monolith = await upstream('monolith');
    const p = await proxy({
      pools: { monolith: { instances: [monolith.url] }, orders: { instances: [await refusingUrl()] } },
      routes: [{ name: 'orders', prefix: '/api/v1/orders', old: 'monolith', new: 'orders', weight: 100 }],
    });
    const body = 'x'.repeat(200_000);
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${p.url}/api/v1/orders`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, agent: false }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      for (let i = 0; i < body.length; i += 50_000) req.write(body.slice(i, i + 50_000));
      req.end();
    });
    expect(reply.status).toBe(200);
    expect(monolith.seen.at(-1)!.body).toBe(body);
    expect(await metric(p, 'proxy_refused_connection_retries_total')).toEqual(['proxy_refused_connection_retries_total{route="orders",side="new",to="other-side"} 1']);
  });

  it('sends a POST to another instance of the same pool first', async () => {
    const service = await upstream('orders');
    const p = await proxy({
      pools: { monolith: { instances: [service.url] }, orders: { instances: [await refusingUrl(), service.url], healthCheck: { intervalMs: 60_000 } } },
      routes: [{ name: 'orders', prefix: '/api/v1/orders', new: 'orders' }],
    });
    for (let i = 0; i < 2; i++) expect((await request(p.url, '/api/v1/orders', { method: 'POST', body: `{"n":${i}}` })).status).toBe(200);
    expect(service.seen.map((s) => s.body)).toEqual(['{"n":0}', '{"n":1}']);
    expect((await metric(p, 'proxy_refused_connection_retries_total')).join('\n')).toContain('to="other-instance"} ');
  });

  it('is the only failure that moves a POST: one whose connection was reached and then cut is answered 502, not repeated', async () => {
    const monolith = await upstream('monolith');
    const cutter = net.createServer((s) => s.once('data', () => s.destroy()));
    await new Promise<void>((r) => cutter.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise((r) => cutter.close(() => r())));
    const p = await proxy({
      pools: { monolith: { instances: [monolith.url] }, orders: { instances: [`http://127.0.0.1:${(cutter.address() as net.AddressInfo).port}`], healthCheck: { intervalMs: 60_000 } } },
      routes: [{ name: 'orders', prefix: '/api/v1/orders', old: 'monolith', new: 'orders', weight: 100 }],
    });
    const reply = await request(p.url, '/api/v1/orders', { method: 'POST', body: '{"pay":1}', agent: false });
    expect(reply.status).toBe(502);
    expect(reply.json()).toMatchObject({ code: 'UpstreamUnreachable' });
    expect(monolith.seen).toEqual([]);
  });
});

describe('the served-by header', () => {
  it('is off by default, and when configured says which side answered', async () => {
    const monolith = await upstream('monolith');
    const service = await upstream('orders');
    const config = {
      pools: { monolith: { instances: [monolith.url] }, orders: { instances: [service.url] } },
      routes: [{ name: 'orders', prefix: '/api/v1/orders', old: 'monolith', new: 'orders', weight: 0 }],
    };
    const plain = await proxy(config);
    expect((await request(plain.url, '/api/v1/orders/1')).headers['x-served-by']).toBeUndefined();
    const told = await proxy({ ...config, servedByHeader: 'X-Served-By' });
    expect((await request(told.url, '/api/v1/orders/1')).headers['x-served-by']).toBe('old');
    const tester = { authorization: `Bearer ${await token('tess', 'tester')}`, 'x-proxy-side': 'new' };
    expect((await request(told.url, '/api/v1/orders/1', { headers: tester })).headers['x-served-by']).toBe('new');
  });
});
