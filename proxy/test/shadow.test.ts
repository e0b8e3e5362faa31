// Shadow comparison. The user gets the primary answer; the other side's answer is
// compared on status and JSON body, ignoring configured fields, and reported on the admin API and
// in metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { request, token, waitFor, type Upstream, startTwoSides, stopTwoSides, type TwoSides } from './helpers.ts';
import { compareAnswers, stripIgnored } from '../src/shadow-compare.ts';

let old: Upstream;
let fresh: Upstream;
let proxy: TwoSides['proxy'];
let freshPrice = 10;

beforeAll(async () => {
  ({ old, fresh, proxy } = await startTwoSides({ shadow: { percent: 100, ignoreFields: ['id', 'createdAt', 'lines.*.lineId'] } }));
  const answer = (price: () => number) => (req: { url: string }, res: import('node:http').ServerResponse) => {
    if (req.url === '/health/ready') return void res.end('ok');
    res.writeHead(200, { 'content-type': 'application/json' });
    // ids and timestamps differ between the two implementations by nature; the price must not.
    res.end(JSON.stringify({ id: randomUUID(), sku: 'A-1', price: price(), createdAt: new Date().toISOString(), lines: [{ lineId: randomUUID(), qty: 1 }] }));
  };
  old.behave(answer(() => 10));
  fresh.behave(answer(() => freshPrice));
});
afterAll(() => stopTwoSides({ old, fresh, proxy }));

const admin = async () => ({ authorization: `Bearer ${await token('ops', 'admin')}` });

describe('shadow comparison', () => {
  it('mirrors GETs to the other side, answers from the primary, and counts matches ignoring configured fields', async () => {
    for (let i = 0; i < 5; i++) {
      const reply = await request(proxy.url, '/api/v1/orders/1');
      expect(reply.status).toBe(200);
    }
    expect(fresh.seen.filter((s) => s.headers['x-proxy-shadow'] === '1')).toHaveLength(5);
    const shadow = await waitFor(async () => {
      const s = (await request(proxy.internalUrl, '/_proxy/shadow', { headers: await admin() })).json<any>();
      return s.routes.orders?.compared === 5 ? s : undefined;
    }, 'five comparisons');
    expect(shadow.routes.orders).toMatchObject({ compared: 5, matched: 5, matchRate: 1 });
  });

  it('reports a differing pair with both answers, and the match rate in metrics', async () => {
    freshPrice = 12;
    await request(proxy.url, '/api/v1/orders/2');
    const shadow = await waitFor(async () => {
      const s = (await request(proxy.internalUrl, '/_proxy/shadow', { headers: await admin() })).json<any>();
      return s.latestDiffs.length ? s : undefined;
    }, 'a difference to be reported');
    const diff = shadow.latestDiffs[0];
    expect(diff).toMatchObject({ route: 'orders', method: 'GET', url: '/api/v1/orders/2', reason: 'JSON body differs' });
    expect(JSON.parse(diff.primary.body).price).toBe(10);
    expect(JSON.parse(diff.shadow.body).price).toBe(12);
    expect(diff.primary.side).toBe('old');
    expect(diff.shadow.side).toBe('new');
    const metrics = (await request(proxy.internalUrl, '/metrics')).body;
    expect(metrics).toContain('proxy_shadow_comparisons_total{route="orders",result="mismatch"} 1');
    expect(metrics).toMatch(/proxy_shadow_match_ratio\{route="orders"\} 0\.83/);
  });

  it('finds two equal answers larger than the comparison keeps equal, however each side was split', async () => {
    const before = (await request(proxy.internalUrl, '/_proxy/shadow', { headers: await admin() })).json<any>().routes.orders;
    // 3 MiB of JSON, written in different chunk sizes on each side: only the first 1 MiB is kept.
    const big = Buffer.from(JSON.stringify({ items: Array.from({ length: 110_000 }, (_, i) => ({ n: i, name: `item ${i}` })) }));
    expect(big.length).toBeGreaterThan(3 * 1024 * 1024);
    const inChunks = (size: number) => (req: { url: string }, res: import('node:http').ServerResponse) => {
      if (req.url === '/health/ready') return void res.end('ok');
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': big.length });
      for (let at = 0; at < big.length; at += size) res.write(big.subarray(at, at + size));
      res.end();
    };
    old.behave(inChunks(7_777));
    fresh.behave(inChunks(100_003));
    try {
      const reply = await request(proxy.url, '/api/v1/orders/big');
      expect(reply.status).toBe(200);
      expect(reply.body.length).toBe(big.length);
      const after = await waitFor(async () => {
        const s = (await request(proxy.internalUrl, '/_proxy/shadow', { headers: await admin() })).json<any>();
        return s.routes.orders.compared === before.compared + 1 ? s.routes.orders : undefined;
      }, 'the comparison of the large answer');
      expect(after.matched).toBe(before.matched + 1);
    } finally {
      old.behave(undefined);
      fresh.behave(undefined);
    }
  });

  it('does not mirror POSTs by default', async () => {
    fresh.seen.length = 0;
    await request(proxy.url, '/api/v1/orders', { method: 'POST', body: '{}' });
    expect(fresh.seen).toHaveLength(0);
  });

  it('compares status first, then JSON with ignored names at any depth and dotted paths', () => {
    expect(compareAnswers({ status: 200, body: '{}' }, { status: 404, body: '{}' }, [])).toEqual({ match: false, reason: 'status 200 ≠ 404' });
    expect(stripIgnored({ a: { id: 1, b: [{ id: 2, c: 3 }] } }, ['id'])).toEqual({ a: { b: [{ c: 3 }] } });
    expect(stripIgnored({ a: [{ x: 1, y: 2 }], x: 5 }, ['a.*.x'])).toEqual({ a: [{ y: 2 }], x: 5 });
    expect(compareAnswers({ status: 200, body: '{"a":1,"b":2}' }, { status: 200, body: '{"b":2,"a":1}' }, []).match).toBe(true);
  });
});
