// What the hot path must keep intact whatever carries it: pooled keep-alive connections to
// upstreams, bodies of every framing, HEAD, large and chunked answers, repeated headers, an
// instance URL with a path, and a client that leaves mid-answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { proxyWith, request, startUpstream, token, twoSides, waitFor, type Upstream, startTwoSides, stopTwoSides, type TwoSides } from './helpers.ts';
import type { RunningProxy } from '../src/proxy-server.ts';

let old: Upstream;
let fresh: Upstream;
let proxy: TwoSides['proxy'];
// Connections that carried forwarded requests (health probes have their own, recycled whenever a
// probe times out on a busy machine, so they are left out of the count).
const forwardingSockets = new Set<import('node:net').Socket>();

beforeAll(async () => {
  ({ old, fresh, proxy } = await startTwoSides());
  old.server.on('request', (req: http.IncomingMessage) => {
    if (req.url !== '/health/ready') forwardingSockets.add(req.socket);
  });
});
afterAll(() => stopTwoSides({ old, fresh, proxy }));

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A raw client request, so the test controls the framing of the body. */
function send(path: string, opts: { method?: string; headers?: Record<string, string>; chunks?: Buffer[] } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(proxy.url + path, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    for (const c of opts.chunks ?? []) req.write(c);
    req.end();
  });
}

describe('forwarding', () => {
  it('reuses a few pooled connections to the upstream for many requests', async () => {
    forwardingSockets.clear();
    for (let round = 0; round < 25; round++) {
      const replies = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          i % 2 ? request(proxy.url, '/api/v1/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"n":${i}}` }) : request(proxy.url, '/api/v1/orders/1'),
        ),
      );
      expect(replies.every((r) => r.status === 200)).toBe(true);
    }
    // 200 requests, at most 8 at a time: the pool never needs more than 8 connections. A socket
    // goes back to the pool as its answer ends, before the client can send the next round.
    expect(forwardingSockets.size).toBeGreaterThan(0);
    expect(forwardingSockets.size).toBeLessThanOrEqual(8);
  });

  it('streams a chunked request body of 1 MiB to the upstream byte for byte', async () => {
    // Hex text: the test upstream keeps bodies as strings.
    const chunks = Array.from({ length: 64 }, () => Buffer.from(randomBytes(8 * 1024).toString('hex')));
    const r = await send('/api/v1/orders/upload', { method: 'PUT', headers: { 'transfer-encoding': 'chunked', 'content-type': 'application/octet-stream' }, chunks });
    expect(r.status).toBe(200);
    const seen = old.seen.at(-1)!;
    expect(seen.headers['transfer-encoding']).toBe('chunked');
    expect(seen.body.length).toBe(1024 * 1024);
    expect(sha(seen.body)).toBe(sha(Buffer.concat(chunks)));
  });

  it('passes a large chunked answer through whole, and HEAD without a body', async () => {
    const big = randomBytes(3 * 1024 * 1024);
    old.behave((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-digest': sha(big) });
      for (let i = 0; i < big.length; i += 64 * 1024) res.write(big.subarray(i, i + 64 * 1024));
      res.end();
    });
    try {
      const r = await send('/api/v1/orders/export');
      expect(r.status).toBe(200);
      expect(r.headers['transfer-encoding']).toBe('chunked');
      expect(sha(r.body)).toBe(r.headers['x-digest']);
      const head = await send('/api/v1/orders/export', { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
    } finally {
      old.behave(undefined);
    }
  });

  it('keeps repeated response headers and the upstream status', async () => {
    old.behave((_req, res) => {
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
      res.writeHead(201, { 'content-type': 'application/json', 'x-request-id': 'from-upstream' });
      res.end('{}');
    });
    try {
      const r = await send('/api/v1/orders', { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '2' }, chunks: [Buffer.from('{}')] });
      expect(r.status).toBe(201);
      expect(r.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
      expect(r.headers['x-request-id']).toBe('from-upstream');
    } finally {
      old.behave(undefined);
    }
  });

  it("passes on the upstream's reason phrase, and drops its hop-by-hop headers", async () => {
    old.behave((_req, res) => {
      res.writeHead(422, 'Basket Too Heavy', { 'content-type': 'application/json', 'keep-alive': 'timeout=5', 'x-custom': 'kept' });
      res.end('{}');
    });
    try {
      const reply = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http.get(proxy.url + '/api/v1/orders/1', { agent: false }, (res) => (res.resume(), res.on('end', () => resolve(res)))).on('error', reject);
      });
      expect(reply.statusCode).toBe(422);
      expect(reply.statusMessage).toBe('Basket Too Heavy');
      expect(reply.headers['x-custom']).toBe('kept');
      expect(reply.headers['keep-alive']).toBeUndefined();
    } finally {
      old.behave(undefined);
    }
  });

  it('puts an instance URL path in front of the forwarded path', async () => {
    const p = await proxyWith({ pools: { monolith: { instances: [`${old.url}/base/`] } }, routes: [] });
    try {
      const r = await request(p.url, '/api/v1/things?x=1');
      expect(r.json<{ url: string }>().url).toBe('/base/api/v1/things?x=1');
    } finally {
      await p.close();
    }
  });

  it('lets go of the upstream answer when the client leaves mid-way, and keeps serving', async () => {
    let aborted = false;
    old.behave((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part');
      res.on('close', () => (aborted = !res.writableFinished));
      // Never ends on its own: only the client leaving can finish this exchange.
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const req = http.get(proxy.url + '/api/v1/orders/stream', { agent: false }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      });
      await waitFor(() => aborted, 'the upstream answer to be abandoned');
    } finally {
      old.behave(undefined);
    }
    expect((await request(proxy.url, '/api/v1/orders/1')).status).toBe(200);
  });
});

describe('clients that leave, error answers and refused requests', () => {
  let a: Upstream;
  let b: Upstream;
  let p: RunningProxy;
  let admin: string;
  beforeAll(async () => {
    a = await startUpstream('monolith');
    b = await startUpstream('orders');
    // Shadow every GET to the other side; a short upstream timeout so a stuck exchange would show.
    p = await proxyWith({ ...twoSides(a, b, { shadow: { percent: 100 } }), upstreamTimeoutMs: 1000 });
    admin = `Bearer ${await token('ops', 'admin')}`;
  });
  afterAll(async () => {
    await p.close();
    await a.close();
    await b.close();
  });
  const inFlight = async () => (await request(p.internalUrl, '/_proxy/state', { headers: { authorization: admin } })).json<{ pools: { instances: { inFlight: number }[] }[] }>().pools.flatMap((x) => x.instances.map((i) => i.inFlight));
  const upstreamErrors = async () => (await p.metrics.registry.getSingleMetricAsString('proxy_upstream_errors_total')).split('\n').filter((l) => l.startsWith('proxy_upstream_errors_total{'));
  const leaveAfter = (path: string, when: 'first byte' | number) =>
    new Promise<void>((resolve) => {
      const req = http.get(p.url + path, { agent: false }, (res) => {
        if (when === 'first byte') res.once('data', () => (req.destroy(), resolve()));
      });
      req.on('error', () => undefined);
      if (typeof when === 'number') setTimeout(() => (req.destroy(), resolve()), when);
    });

  it('lets go of a shadowed answer the client left mid-way, and counts no upstream error', async () => {
    p.metrics.registry.resetMetrics();
    const big = Buffer.alloc(4 * 1024 * 1024, 120);
    a.behave((req, res) => (req.url === '/health/ready' ? res.end('ok') : (res.writeHead(200, { 'content-type': 'application/octet-stream' }), res.end(big))));
    try {
      await leaveAfter('/api/v1/orders/big', 'first byte');
      await waitFor(async () => (await inFlight()).every((n) => n === 0), 'every instance to be released');
    } finally {
      a.behave(undefined);
    }
    expect(await upstreamErrors()).toEqual([]);
  });

  it('gives up the upstream request of a client that left before the answer began', async () => {
    p.metrics.registry.resetMetrics();
    a.behave((req, res) => (req.url === '/health/ready' ? res.end('ok') : void setTimeout(() => res.end('late'), 800)));
    try {
      await leaveAfter('/api/v1/orders/slow', 100);
      // Released at once, not when the upstream answers (800 ms) or times out (1 s).
      await waitFor(async () => (await inFlight()).every((n) => n === 0), 'the instance to be released', 400);
    } finally {
      a.behave(undefined);
    }
    expect(await upstreamErrors()).toEqual([]);
  });

  it('falls back at once from a 503 with a large or endless body, counting the failure once', async () => {
    p.metrics.registry.resetMetrics();
    // Headers, then a body that never ends: waiting for it would take the whole upstream timeout.
    a.behave((req, res) => {
      if (req.url === '/health/ready') return void res.end('ok');
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.write('x'.repeat(1024));
    });
    try {
      const started = performance.now();
      const r = await request(p.url, '/api/v1/orders/7');
      expect(r.status).toBe(200);
      expect(r.json<{ upstream: string }>().upstream).toBe('orders');
      expect(performance.now() - started).toBeLessThan(900);
    } finally {
      a.behave(undefined);
    }
    expect(await upstreamErrors()).toEqual(['proxy_upstream_errors_total{route="orders",side="old",kind="503"} 1']);
  });

  it('answers 400, not 502, to a request undici cannot send (OPTIONS *), blaming no side', async () => {
    p.metrics.registry.resetMetrics();
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: p.port, method: 'OPTIONS', path: '*', agent: false }, (res) => (res.resume(), resolve(res.statusCode ?? 0)));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(400);
    expect(await upstreamErrors()).toEqual([]);
  });
});
