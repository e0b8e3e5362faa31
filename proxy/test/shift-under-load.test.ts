// Moving a route 0 → 25 → 50 → 100 → 0 under constant autocannon load, with POST
// bodies, produces no failed or corrupted request. Every body carries its own checksum; the
// upstreams check it and the client checks the echo.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import autocannon from 'autocannon';
import { token, waitFor, type Upstream, type Behaviour, startTwoSides, stopTwoSides, type TwoSides } from './helpers.ts';

let old: Upstream;
let fresh: Upstream;
let proxy: TwoSides['proxy'];
const corrupted: string[] = [];
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const checking =
  (name: string): Behaviour =>
  (req, res) => {
    if (req.url === '/health/ready') return void res.end('ok');
    let echo = '';
    if (req.method === 'POST') {
      try {
        const { payload, sum } = JSON.parse(req.body) as { payload: string; sum: string };
        if (sha(payload) !== sum || Buffer.byteLength(req.body) !== Number(req.headers['content-length'])) corrupted.push(`${name}: bad sum`);
        echo = sum;
      } catch {
        corrupted.push(`${name}: unparsable body ${req.body.slice(0, 80)}`);
      }
    }
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ upstream: name, echo }));
  };

beforeAll(async () => {
  ({ old, fresh, proxy } = await startTwoSides());
  old.behave(checking('monolith'));
  fresh.behave(checking('orders'));
});
afterAll(() => stopTwoSides({ old, fresh, proxy }));

describe('shifting traffic under load', () => {
  it('moves 0 → 25 → 50 → 100 → 0 with no failed or corrupted request, POST bodies intact', async () => {
    const tokens = await Promise.all(Array.from({ length: 100 }, (_, i) => token(`load-${i}`)));
    const pick = () => `Bearer ${tokens[Math.floor(Math.random() * tokens.length)]}`;
    const badEchoes: string[] = [];
    let n = 0;
    type Ctx = { sum?: string };
    const post = (idempotent: boolean): autocannon.Request => ({
      method: 'POST' as const,
      path: '/api/v1/orders',
      setupRequest: (req: autocannon.Request, context: object) => {
        // Sizes vary from a few bytes to ~40 KB so bodies span several TCP segments.
        const payload = `${n++}:${'x'.repeat(Math.floor(Math.random() * 40_000))}`;
        const sum = sha(payload);
        (context as Ctx).sum = sum;
        const headers: Record<string, string> = { 'content-type': 'application/json', authorization: pick() };
        if (idempotent) headers['idempotency-key'] = `key-${n}`;
        return { ...req, headers, body: JSON.stringify({ payload, sum }) };
      },
      onResponse: (status: number, body: string, context: object) => {
        if (status !== 201 || JSON.parse(body).echo !== (context as Ctx).sum) badEchoes.push(`${status} ${body.slice(0, 80)}`);
      },
    });
    const get: autocannon.Request = {
      method: 'GET',
      path: '/api/v1/orders/1',
      setupRequest: (req: autocannon.Request) => ({ ...req, headers: { authorization: pick() } }),
    };

    let resolveDone: (r: autocannon.Result) => void = () => undefined;
    const finished = new Promise<autocannon.Result>((resolve) => (resolveDone = resolve));
    const run = autocannon({ url: proxy.url, connections: 16, duration: 120, requests: [post(false), get, post(true)] }, (err, result) => {
      if (err) throw err;
      resolveDone(result);
    });

    const served = () => ({ old: old.seen.length, fresh: fresh.seen.length });
    await waitFor(() => served().old > 300, 'load to reach the monolith', 20_000);
    for (const weight of [25, 50, 100, 0]) {
      proxy.setWeight('orders', weight);
      const before = served();
      // Let each step carry real traffic on the side(s) it sends to before the next move.
      await waitFor(() => {
        const now = served();
        return (weight === 0 || now.fresh - before.fresh > 300) && (weight === 100 || now.old - before.old > 300);
      }, `traffic at weight ${weight}`, 30_000);
    }
    run.stop();
    const result = await finished;

    expect(result.requests.total).toBeGreaterThan(1500);
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(result.resets).toBe(0);
    expect(badEchoes).toEqual([]);
    expect(corrupted).toEqual([]);
    expect(fresh.seen.filter((s) => s.method === 'POST').length).toBeGreaterThan(100);
  });
});
