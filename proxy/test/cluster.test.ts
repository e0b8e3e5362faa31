// PROXY_WORKERS > 1: admin changes, hot reload and the canary stay consistent across workers.
// Runs `proxy/src/main.ts` for real (the primary and two workers) against node:http upstreams.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { SECRET, request, startUpstream, tempConfig, token, twoSides, waitFor, type Upstream } from './helpers.ts';
import { spawnProxy, type ProxyProcess } from './proxy-process.ts';

let old: Upstream;
let fresh: Upstream;
let proxy: ProxyProcess;
let base: string;
let internal: string;
let configPath: string;

beforeAll(async () => {
  old = await startUpstream('monolith');
  fresh = await startUpstream('orders');
  configPath = tempConfig(
    twoSides(old, fresh, {
      // Latency bounds wide open: this test is about consistency across workers, not judging.
      canary: { steps: [{ weight: 30, dwellMs: 200 }, { weight: 100, dwellMs: 200 }], minRequests: 10, maxP99Ratio: 10, p99SlackMs: 2000 },
    }),
  );
  proxy = await spawnProxy({ env: { PROXY_CONFIG: configPath, PROXY_WORKERS: '2', JWT_SECRET: SECRET, LOG_LEVEL: 'info' }, workers: 2 });
  ({ base, internal } = proxy);
}, 60_000);
afterAll(async () => {
  await proxy?.stop();
  await old.close();
  await fresh.close();
});

/** New connection per request, so the primary spreads them over both workers. */
const sides = async (n: number, headers: Record<string, string> = {}) => {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await request(base, '/api/v1/orders/1', { agent: false, headers });
    seen.add(r.json<{ upstream: string }>().upstream);
  }
  return seen;
};

describe('several workers', () => {
  it('spreads connections over both workers', async () => {
    const admin = { authorization: `Bearer ${await token('ops', 'admin')}` };
    await waitFor(async () => {
      const pids = new Set<number>();
      for (let i = 0; i < 10; i++) pids.add((await request(internal, '/_proxy/state', { headers: admin, agent: false })).json<{ pid: number }>().pid);
      return pids.size === 2;
    }, 'answers from two worker processes');
  });

  it('applies an admin weight change in every worker', async () => {
    const admin = { authorization: `Bearer ${await token('ops', 'admin')}`, 'content-type': 'application/json' };
    expect(await sides(10)).toEqual(new Set(['monolith']));
    const set = await request(internal, '/_proxy/routes/orders/weight', { method: 'PUT', headers: admin, body: '{"weight":100,"confirm":true}', agent: false });
    expect(set.status).toBe(200);
    await waitFor(async () => (await sides(10)).size === 1 && (await sides(10)).has('orders'), 'every worker to send to the new side');
  });

  it('applies a file edit in every worker', async () => {
    const cfg = JSON.parse(readFileSync(configPath, 'utf8'));
    cfg.routes[0].weight = 0;
    writeFileSync(configPath, JSON.stringify(cfg, null, 2));
    await waitFor(async () => {
      const s = await sides(10);
      return s.size === 1 && s.has('monolith');
    }, 'every worker to reload');
  });

  it('runs one canary for all workers and shows the same state on each', async () => {
    const admin = { authorization: `Bearer ${await token('ops', 'admin')}` };
    const started = await request(internal, '/_proxy/routes/orders/canary', { method: 'POST', headers: admin, agent: false });
    expect(started.status).toBe(202);
    const users = await Promise.all(Array.from({ length: 30 }, (_, i) => token(`w-${i}`)));
    await waitFor(async () => {
      await Promise.all(users.map((u) => request(base, '/api/v1/orders/1', { agent: false, headers: { authorization: `Bearer ${u}` } })));
      const states = await Promise.all(
        [1, 2, 3, 4].map(async () => (await request(internal, '/_proxy/canary', { headers: admin, agent: false })).json<any>().orders?.status),
      );
      if (states.includes('rolled-back')) throw new Error(`canary rolled back: ${proxy.output().split('canary rolled-back')[1]?.slice(0, 300)}`);
      return states.every((s) => s === 'completed');
    }, 'the canary to complete, as seen from every worker', 30_000);
    expect(JSON.parse(readFileSync(configPath, 'utf8')).routes[0].weight).toBe(100);
    await waitFor(async () => {
      const s = await sides(10);
      return s.size === 1 && s.has('orders');
    }, 'every worker to follow the canary to 100');
  });
});
