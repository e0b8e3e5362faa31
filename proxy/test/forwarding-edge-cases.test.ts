// Edge cases of the forwarding hot path (undici dispatch handler, proxy/src/forwarder.ts): 1xx
// answers before the final one, a reason phrase undici cannot hand over intact, a client that
// leaves while its request waits for a connection, flow control towards a client that does not
// read, answers without a body, an upstream dying mid-answer, header bytes and repeated headers,
// and a fallback started from inside the answer's first callback. The first four failed on the
// first version of the dispatch handler (which replaced stream()); the rest pin behaviour both had.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { proxyWith, request, startUpstream, token, twoSides, waitFor, type Upstream } from './helpers.ts';
import type { RunningProxy } from '../src/proxy-server.ts';

type Result = { route: string; side: string; isError: boolean };

let a: Upstream;
let b: Upstream;
let p: RunningProxy;
let admin: string;
const results: Result[] = [];

beforeAll(async () => {
  a = await startUpstream('monolith');
  b = await startUpstream('orders');
  p = await proxyWith({ ...twoSides(a, b), upstreamTimeoutMs: 2000 }, { reportResult: (route, side, _ms, isError) => results.push({ route, side, isError }) });
  admin = `Bearer ${await token('ops', 'admin')}`;
});
afterAll(async () => {
  await p.close();
  await a.close();
  await b.close();
});

const upstreamErrors = async (proxy: RunningProxy = p) =>
  (await proxy.metrics.registry.getSingleMetricAsString('proxy_upstream_errors_total')).split('\n').filter((l) => l.startsWith('proxy_upstream_errors_total{'));
const inFlight = async (proxy: RunningProxy = p) =>
  (await request(proxy.internalUrl, '/_proxy/state', { headers: { authorization: admin } })).json<{ pools: { instances: { inFlight: number }[] }[] }>().pools.flatMap((x) => x.instances.map((i) => i.inFlight));
const health = (req: { url: string }, res: http.ServerResponse) => (req.url === '/health/ready' ? (res.end('ok'), true) : false);

/** A request on its own connection; resolves with status, reason, headers and body, or the error (a 2 s timeout included). */
function get(url: string, headers: Record<string, string> = {}, method = 'GET', body?: string) {
  return new Promise<{ status: number; reason: string; headers: http.IncomingHttpHeaders; body: string } | Error>((resolve) => {
    const req = http.request(url, { method, agent: false, headers, timeout: 2000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(parts).toString('latin1') }));
      res.on('error', resolve);
      res.on('aborted', () => resolve(new Error('aborted mid-answer')));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
    req.on('error', resolve);
    req.end(body);
  });
}

describe('1xx informational answers from the upstream', () => {
  it('passes the final answer through after a 103 Early Hints', async () => {
    results.length = 0;
    p.metrics.registry.resetMetrics();
    a.behave((req, res) => {
      if (health(req, res)) return;
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('final answer');
    });
    try {
      const r = await get(p.url + '/api/v1/orders/1');
      expect(r).not.toBeInstanceOf(Error);
      expect(r).toMatchObject({ status: 200, body: 'final answer' });
    } finally {
      a.behave(undefined);
    }
    expect(await upstreamErrors()).toEqual([]);
  });

  it('passes the final answer through after a 102 Processing', async () => {
    a.behave((req, res) => {
      if (health(req, res)) return;
      res.writeProcessing();
      setTimeout(() => (res.writeHead(201, { 'content-type': 'text/plain' }), res.end('created')), 5);
    });
    try {
      const r = await get(p.url + '/api/v1/orders/2');
      expect(r).not.toBeInstanceOf(Error);
      expect(r).toMatchObject({ status: 201, body: 'created' });
    } finally {
      a.behave(undefined);
    }
  });
});

describe('reason phrases', () => {
  it('answers with the upstream status when its reason phrase has a non-ASCII (obs-text) byte', async () => {
    results.length = 0;
    p.metrics.registry.resetMetrics();
    a.behave((req, res) => {
      if (health(req, res)) return;
      // 'é' goes out as the single byte 0xE9: obs-text, allowed in a reason phrase (RFC 9112 §4).
      res.writeHead(422, 'Panier trop lourd \u00e9', { 'content-type': 'text/plain' });
      res.end(Buffer.from('too heavy'));
    });
    try {
      // A GET may fall back, a POST may not: both should get the monolith's 422.
      const viaGet = await get(p.url + '/api/v1/orders/3');
      const viaPost = await get(p.url + '/api/v1/orders', { 'content-type': 'application/json' }, 'POST', '{}');
      const seen = (r: typeof viaGet) => (r instanceof Error ? r.message : `${r.status} ${r.body}`);
      expect([seen(viaGet), seen(viaPost)]).toEqual(['422 too heavy', '422 too heavy']);
    } finally {
      a.behave(undefined);
    }
    expect(await upstreamErrors()).toEqual([]);
    expect(results.filter((x) => x.isError)).toEqual([]);
  });
});

describe('a client that leaves while its request waits for a connection', () => {
  it('gives up connecting after connectTimeoutMs and falls back, rather than waiting out undici\'s 10 s', async () => {
    const stuck = new Set<net.Socket>();
    const silent = net.createServer((s) => (stuck.add(s), s.on('error', () => undefined)));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as AddressInfo).port;
    const q = await proxyWith({
      pools: {
        monolith: { instances: [`https://127.0.0.1:${port}`], healthCheck: { intervalMs: 60_000, timeoutMs: 200 } },
        orders: { instances: [b.url], healthCheck: { intervalMs: 60_000 } },
      },
      routes: [{ name: 'orders', prefix: '/api/v1/orders', old: 'monolith', new: 'orders', weight: 0 }],
      connectTimeoutMs: 300,
    });
    try {
      // get() gives up after 2 s: an answer at all means the connect timeout was honoured.
      const r = await get(q.url + '/api/v1/orders/7');
      expect(r).not.toBeInstanceOf(Error);
      expect(r).toMatchObject({ status: 200 });
      expect(JSON.parse((r as { body: string }).body).upstream).toBe('orders');
      expect(await upstreamErrors(q)).toEqual([expect.stringContaining('UND_ERR_CONNECT_TIMEOUT')]);
      expect(await q.metrics.registry.getSingleMetricAsString('proxy_fallbacks_total')).toContain('from="old",to="new"} 1');
    } finally {
      for (const s of stuck) s.destroy();
      silent.close();
      await q.close();
    }
  });

  it('releases the instance at once, not when the connection attempt gives up', async () => {
    // An https instance whose TLS handshake never completes: the request waits for its connection
    // (onRequestStart has not been called) for undici's connect timeout, 10 s.
    const stuck = new Set<net.Socket>();
    const silent = net.createServer((s) => (stuck.add(s), s.on('error', () => undefined)));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as AddressInfo).port;
    const q = await proxyWith({
      pools: { monolith: { instances: [`https://127.0.0.1:${port}`], healthCheck: { intervalMs: 60_000, timeoutMs: 200 } } },
      routes: [],
    });
    try {
      await new Promise<void>((resolve) => {
        const req = http.get(q.url + '/anything', { agent: false });
        req.on('error', () => undefined);
        setTimeout(() => (req.destroy(), resolve()), 100);
      });
      // stream() with `signal` took a queued request out of undici's queue when the client left.
      await waitFor(async () => (await inFlight(q)).every((n) => n === 0), 'the instance to be released', 1000);
      expect(await upstreamErrors(q)).toEqual([]);
    } finally {
      for (const s of stuck) s.destroy();
      silent.close();
      await q.close();
    }
  });
});

describe('flow control', () => {
  it('holds a bounded amount for a client that does not read, and lets go when it leaves', async () => {
    p.metrics.registry.resetMetrics();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    const total = 64 * 1024 * 1024;
    const piece = Buffer.alloc(64 * 1024, 97);
    let upstreamClosed = false;
    let written = 0;
    a.behave((req, res) => {
      if (health(req, res)) return;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
      res.on('close', () => (upstreamClosed = true));
      const pump = () => {
        while (written < total) {
          written += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    try {
      let got = 0;
      let clientRes!: http.IncomingMessage;
      const req = http.get(p.url + '/api/v1/orders/huge', { agent: false }, (res) => {
        clientRes = res;
        res.pause(); // a client that reads nothing for now
      });
      req.on('error', () => undefined);
      await waitFor(() => clientRes, 'the answer to begin');
      // Let everyone fill their buffers, then look at how far the upstream got.
      let last = -1;
      await waitFor(async () => {
        await new Promise((r) => setTimeout(r, 50));
        const stable = written === last;
        last = written;
        return stable;
      }, 'the upstream to be held back', 5000);
      expect(written).toBeLessThan(total / 2);
      // Reading a little lets the upstream go on (the proxy resumed it).
      const before = written;
      clientRes.on('data', (c: Buffer) => (got += c.length));
      clientRes.resume();
      await waitFor(() => written > before + 4 * 1024 * 1024, 'the upstream to be resumed');
      clientRes.pause();
      req.destroy();
      await waitFor(() => upstreamClosed, 'the upstream answer to be abandoned');
      await waitFor(async () => (await inFlight()).every((n) => n === 0), 'every instance to be released');
      expect(got).toBeGreaterThan(0);
    } finally {
      a.behave(undefined);
      process.off('warning', onWarning);
    }
    expect(await upstreamErrors()).toEqual([]);
    expect(warnings.filter((w) => w.includes('MaxListeners'))).toEqual([]);
  });
});


describe('kept as before (pins)', () => {
  it('answers HEAD, 204 and 304 without a body, and keeps the connection usable', async () => {
    a.behave((req, res) => {
      if (health(req, res)) return;
      if (req.url.endsWith('/204')) return void (res.writeHead(204), res.end());
      if (req.url.endsWith('/304')) return void (res.writeHead(304, { etag: '"v1"' }), res.end());
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' });
      res.end(req.method === 'HEAD' ? undefined : 'hello');
    });
    try {
      const head = await request(p.url, '/api/v1/orders/h', { method: 'HEAD' });
      expect([head.status, head.headers['content-length'], head.body]).toEqual([200, '5', '']);
      const none = await request(p.url, '/api/v1/orders/204');
      expect([none.status, none.body]).toEqual([204, '']);
      const same = await request(p.url, '/api/v1/orders/304', { headers: { 'if-none-match': '"v1"' } });
      expect([same.status, same.headers.etag, same.body]).toEqual([304, '"v1"', '']);
      expect((await request(p.url, '/api/v1/orders/h')).body).toBe('hello');
    } finally {
      a.behave(undefined);
    }
  });

  it('cuts the client off (no clean end) when the upstream dies mid-body, chunked or sized', async () => {
    for (const sized of [false, true]) {
      a.behave((req, res) => {
        if (health(req, res)) return;
        res.writeHead(200, sized ? { 'content-length': '100000' } : {});
        res.write('x'.repeat(1000));
        setTimeout(() => res.socket?.destroy(), 20);
      });
      try {
        const r = await get(p.url + '/api/v1/orders/dies');
        expect(r).toBeInstanceOf(Error);
      } finally {
        a.behave(undefined);
      }
    }
    expect((await request(p.url, '/api/v1/orders/1')).status).toBe(200);
  });

  it('round-trips latin1 header bytes both ways, keeps repeated headers, the request id and the sticky cookie', async () => {
    const q = await proxyWith(twoSides(a, b, { weight: 50 }));
    const answer = (req: { url: string; headers: http.IncomingHttpHeaders }, res: http.ServerResponse) => {
      if (health(req, res)) return;
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('X-Request-Id', 'upstream-id');
      res.setHeader('x-seen-name', Buffer.from(String(req.headers['x-name']), 'latin1').toString('hex'));
      res.setHeader('x-name', 'caf\u00e9');
      res.setHeader('x-multi', ['one', 'two']);
      res.end(Buffer.from('{}')); // a Buffer: with a string body Node would send the head as UTF-8
    };
    a.behave(answer);
    b.behave(answer);
    try {
      const r = await get(q.url + '/api/v1/orders/1', { 'x-name': 'caf\u00e9' });
      expect(r).not.toBeInstanceOf(Error);
      const ok = r as Exclude<typeof r, Error>;
      expect(ok.headers['x-seen-name']).toBe(Buffer.from('caf\u00e9', 'latin1').toString('hex')); // request side
      expect(ok.headers['x-name']).toBe('caf\u00e9'); // answer side
      expect(ok.headers['x-request-id']).toBe('upstream-id');
      expect(ok.headers['x-multi']).toBe('one, two');
      expect(ok.headers['set-cookie']).toHaveLength(3);
      expect(ok.headers['set-cookie']!.slice(0, 2)).toEqual(['a=1', 'b=2']);
      expect(ok.headers['set-cookie']![2]).toMatch(/^proxy_uid=/);
    } finally {
      a.behave(undefined);
      b.behave(undefined);
      await q.close();
    }
  });

  it('falls back from a large 503 to another pool on the same origin (re-dispatch from inside onResponseStart)', async () => {
    let n = 0;
    a.behave((req, res) => {
      if (health(req, res)) return;
      if (n++ === 0) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.write('x'.repeat(100_000));
        return;
      }
      res.end('second');
    });
    const q = await proxyWith({
      pools: { monolith: { instances: [a.url] }, orders: { instances: [a.url] } },
      routes: [{ name: 'orders', prefix: '/api/v1/orders', old: 'monolith', new: 'orders', weight: 0 }],
    });
    try {
      const r = await get(q.url + '/api/v1/orders/1');
      expect(r).toMatchObject({ status: 200, body: 'second' });
      expect(n).toBe(2);
    } finally {
      a.behave(undefined);
      await q.close();
    }
  });

  for (const [kb, what] of [[900, 'compares a primary answer read slowly by its client with its shadow, whole']] as const) {
    it(what, async () => {
      const q = await proxyWith(twoSides(a, b, { shadow: { percent: 100 } }));
      const body = Buffer.alloc(kb * 1024, 120);
      const answer = (req: { url: string }, res: http.ServerResponse) => (health(req, res) ? undefined : (res.writeHead(200, { 'content-type': 'text/plain' }), res.end(body)));
      a.behave(answer);
      b.behave(answer);
      try {
        const got = await new Promise<number>((resolve, reject) => {
          http.get(q.url + '/api/v1/orders/big', { agent: false }, (res) => {
            let n = 0;
            res.pause();
            const t = setInterval(() => {
              let c: Buffer | null;
              while ((c = res.read(16 * 1024) as Buffer | null)) n += c.length;
            }, 2);
            res.on('end', () => (clearInterval(t), resolve(n)));
            res.on('error', reject);
          }).on('error', reject);
        });
        expect(got).toBe(body.length);
        const shadow = await waitFor(async () => {
          const s = (await request(q.internalUrl, '/_proxy/shadow', { headers: { authorization: admin } })).json<{ routes: Record<string, { compared: number; matched: number }> }>();
          return s.routes.orders?.compared ? s.routes.orders : undefined;
        }, 'the comparison');
        expect(shadow).toMatchObject({ compared: 1, matched: 1 });
      } finally {
        a.behave(undefined);
        b.behave(undefined);
        await q.close();
      }
    });
  }
});
