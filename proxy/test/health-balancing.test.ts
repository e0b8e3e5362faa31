// Instances are health-checked on /health/ready and balanced round robin or by
// least connections; a failing instance is taken out and put back once healthy.
import { afterEach, describe, expect, it } from 'vitest';
import type http from 'node:http';
import { startUpstream, proxyWith, request, token, waitFor, type Upstream } from './helpers.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});
const upstream = async (name: string, port = 0) => {
  const u = await startUpstream(name, port);
  cleanup.push(() => u.close());
  return u;
};
const proxyFor = async (instances: Upstream[], balance: 'round-robin' | 'least-connections') => {
  const p = await proxyWith({
    pools: { monolith: { instances: instances.map((u) => u.url), balance, healthCheck: { intervalMs: 100, unhealthyAfter: 2, healthyAfter: 1 } } },
  });
  cleanup.push(() => p.close());
  return p;
};

describe('balancing', () => {
  it('spreads requests evenly round robin', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    const c = await upstream('c');
    const p = await proxyFor([a, b, c], 'round-robin');
    for (let i = 0; i < 30; i++) await request(p.url, `/x/${i}`);
    expect([a.seen.length, b.seen.length, c.seen.length]).toEqual([10, 10, 10]);
  });

  it('sends to the instance with the fewest requests in flight', async () => {
    const slow = await upstream('slow');
    const quick = await upstream('quick');
    const held: http.ServerResponse[] = [];
    slow.behave((req, res) => {
      if (req.url === '/health/ready') return void res.end('ok');
      held.push(res); // answered only when the test releases it
    });
    const p = await proxyFor([slow, quick], 'least-connections');
    const pending = Array.from({ length: 3 }, (_, i) => request(p.url, `/hold/${i}`, { agent: false }));
    // Three in flight: at most one lands on `slow` while it holds them (ties rotate, then it is busier).
    await waitFor(() => slow.seen.length + quick.seen.length === 3, 'three requests to arrive');
    quick.seen.length = 0;
    for (let i = 0; i < 10; i++) await request(p.url, `/next/${i}`);
    expect(quick.seen.length).toBe(10);
    for (const res of held) res.end('released');
    await Promise.all(pending);
  });
});

describe('health checks', () => {
  it('takes a dead instance out, keeps serving from the others, and puts it back when it returns', async () => {
    const a = await upstream('a');
    let b = await upstream('b');
    const p = await proxyFor([a, b], 'round-robin');
    const admin = { authorization: `Bearer ${await token('ops', 'admin')}` };
    const instances = async () =>
      (await request(p.internalUrl, '/_proxy/pools', { headers: admin })).json<{ name: string; instances: { url: string; healthy: boolean }[] }[]>()[0]!
        .instances;

    const port = b.port;
    await b.close();
    await waitFor(async () => (await instances()).find((i) => i.url === b.url)?.healthy === false, 'b to be taken out');
    expect((await request(p.internalUrl, '/metrics')).body).toContain(`proxy_upstream_healthy{pool="monolith",upstream="${b.url}"} 0`);
    a.seen.length = 0;
    for (let i = 0; i < 10; i++) expect((await request(p.url, `/y/${i}`)).status).toBe(200);
    expect(a.seen.length).toBe(10);

    b = await upstream('b', port);
    await waitFor(async () => (await instances()).every((i) => i.healthy), 'b to be put back');
    for (let i = 0; i < 10; i++) await request(p.url, `/z/${i}`);
    expect(b.seen.length).toBe(5);
  });

  it('takes an instance out after it fails its readiness probe (503), without it being down', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    let ready = false;
    b.behave((req, res) => {
      res.writeHead(req.url === '/health/ready' && !ready ? 503 : 200);
      res.end(JSON.stringify({ upstream: 'b' }));
    });
    const p = await proxyFor([a, b], 'round-robin');
    await waitFor(async () => {
      b.seen.length = 0;
      for (let i = 0; i < 4; i++) await request(p.url, `/r/${i}`);
      return b.seen.length === 0;
    }, 'b to be out of rotation');
    ready = true;
    await waitFor(async () => {
      await request(p.url, '/r');
      await request(p.url, '/r');
      return b.seen.length > 0;
    }, 'b back in rotation');
  });

  it('retries on another instance when one refuses connections, and takes it out after repeated connect errors', async () => {
    const a = await upstream('a');
    const dead = await upstream('dead');
    const deadUrl = dead.url;
    await dead.close();
    // Probes far apart, so only the requests' own connect errors can take the instance out.
    const p = await proxyWith({
      pools: { monolith: { instances: [a.url, deadUrl], healthCheck: { intervalMs: 60_000, unhealthyAfter: 3 } } },
    });
    cleanup.push(() => p.close());
    for (let i = 0; i < 6; i++) expect((await request(p.url, `/q/${i}`)).status).toBe(200);
    const admin = { authorization: `Bearer ${await token('ops', 'admin')}` };
    const pool = (await request(p.internalUrl, '/_proxy/pools', { headers: admin })).json<{ instances: { url: string; healthy: boolean }[] }[]>()[0]!;
    expect(pool.instances.find((i) => i.url === deadUrl)!.healthy).toBe(false);
    expect(a.seen).toHaveLength(6);
  });
});

