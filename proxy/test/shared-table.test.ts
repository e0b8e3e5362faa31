// Three proxy processes sharing one table through Redis, each with its own copy of the config file
// (as on three machines): a weight set through one admin API, or by editing one file, reaches
// all of them; traffic shifted under load fails no request; one canary controller runs at a time,
// and when its process is killed another carries the canary on to the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { readRawConfig, writeConfig } from '../src/config-file.ts';
import { setWeight } from '../src/config-edit.ts';
import { SECRET, request, startUpstream, tempConfig, token, twoSides, waitFor, type Upstream } from './helpers.ts';
import { spawnProxy, type ProxyProcess } from './proxy-process.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Instance extends ProxyProcess {
  configPath: string;
  alive: boolean;
}

let old: Upstream;
let fresh: Upstream;
let instances: Instance[] = [];
let admin: Record<string, string>;

async function startInstance(prefix: string, config: ReturnType<typeof twoSides>): Promise<Instance> {
  const configPath = tempConfig(config);
  const proxy = await spawnProxy({
    env: { PROXY_CONFIG: configPath, PROXY_WORKERS: '1', JWT_SECRET: SECRET, REDIS_URL, PROXY_REDIS_PREFIX: prefix, PROXY_ACCESS_LOG: 'off', LOG_LEVEL: 'info' },
    readyTimeoutMs: 60_000,
  });
  return Object.assign(proxy, { configPath, alive: true });
}

const state = async (i: Instance) => (await request(i.internal, '/_proxy/state', { headers: admin, agent: false, timeoutMs: 5000 })).json<any>();
const weights = async () => Promise.all(instances.filter((i) => i.alive).map(async (i) => (await state(i)).routes[0].weight as number));

beforeAll(async () => {
  old = await startUpstream('monolith');
  fresh = await startUpstream('orders');
  admin = { authorization: `Bearer ${await token('ops', 'admin')}` };
  const prefix = `proxy-shared-test:${randomUUID()}:`;
  const config = twoSides(old, fresh, {
    // Latency bounds wide open: this test is about who runs the canary, not how it judges.
    canary: { steps: [{ weight: 20, dwellMs: 1500 }, { weight: 50, dwellMs: 1500 }, { weight: 80, dwellMs: 1500 }, { weight: 100, dwellMs: 1500 }], minRequests: 10, maxP99Ratio: 10, p99SlackMs: 5000 },
  });
  instances = await Promise.all([0, 1, 2].map(() => startInstance(prefix, config)));
}, 120_000);
afterAll(async () => {
  for (const i of instances) {
    await i.stop();
  }
  await old?.close();
  await fresh?.close();
});

describe('proxies sharing one table through Redis', () => {
  it('applies a weight set through one admin API on every instance, shifting under load with no failed request', async () => {
    const tokens = await Promise.all(Array.from({ length: 60 }, (_, i) => token(`shared-${i}`)));
    let n = 0;
    const stops: (() => void)[] = [];
    const runs = instances.map(
      (i) =>
        new Promise<autocannon.Result>((resolve, reject) => {
          const run = autocannon(
            {
              url: i.base,
              connections: 3,
              duration: 120,
              requests: [
                { method: 'GET', path: '/api/v1/orders/1', setupRequest: (req: autocannon.Request) => ({ ...req, headers: { authorization: `Bearer ${tokens[n++ % tokens.length]}` } }) },
                { method: 'POST', path: '/api/v1/orders', setupRequest: (req: autocannon.Request) => ({ ...req, headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[n++ % tokens.length]}` }, body: `{"n":${n}}` }) },
              ],
            },
            (err, result) => (err ? reject(err) : resolve(result)),
          );
          stops.push(() => run.stop());
        }),
    );
    const served = () => ({ old: old.seen.length, fresh: fresh.seen.length });
    await waitFor(() => served().old > 200, 'load on the monolith', 30_000);
    const reached: number[] = [];
    for (const weight of [25, 50, 100, 0]) {
      const set = await request(instances[0]!.internal, '/_proxy/routes/orders/weight', { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ weight, confirm: true }), agent: false });
      expect(set.status).toBe(200);
      const started = Date.now();
      await waitFor(async () => (await weights()).every((w) => w === weight), `every instance at weight ${weight}`, 20_000);
      reached.push(Date.now() - started);
      const before = served();
      await waitFor(() => {
        const now = served();
        return (weight === 0 || now.fresh - before.fresh > 150) && (weight === 100 || now.old - before.old > 150);
      }, `traffic at weight ${weight}`, 60_000);
    }
    for (const stop of stops) stop();
    const results = await Promise.all(runs);
    console.log(`weights reached every instance in ${reached.join(', ')} ms (polled)`);
    for (const r of results) expect({ errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx, resets: r.resets }).toEqual({ errors: 0, timeouts: 0, non2xx: 0, resets: 0 });
  }, 240_000);

  it('applies an edit of one instance’s file on every instance', async () => {
    const third = instances[2]!;
    writeConfig(third.configPath, setWeight(readRawConfig(third.configPath), 'orders', 40));
    await waitFor(async () => (await weights()).every((w) => w === 40), 'every instance at the edited weight', 20_000);
  });

  it('runs one canary controller, and carries the canary on from another instance when its process is killed', async () => {
    const start = await request(instances[1]!.internal, '/_proxy/routes/orders/canary', { method: 'POST', headers: admin, agent: false });
    expect(start.status).toBe(202);
    const users = await Promise.all(Array.from({ length: 30 }, (_, i) => token(`canary-${i}`)));
    let stop = false;
    const traffic = (async () => {
      while (!stop) {
        await Promise.all(
          instances
            .filter((i) => i.alive)
            .flatMap((i) => users.slice(0, 10).map((u) => request(i.base, '/api/v1/orders/1', { headers: { authorization: `Bearer ${u}` }, agent: false, timeoutMs: 5000 }).catch(() => undefined))),
        );
      }
    })();
    try {
      // Advanced at least once: then the controller's process dies mid-canary.
      const advanced = await waitFor(async () => {
        const s = await state(instances[0]!);
        return s.canary.orders?.history?.some((e: { event: string }) => e.event === 'advanced') ? s : undefined;
      }, 'the canary to advance a step', 60_000);
      const holder: string = advanced.canaryController;
      const ids = await Promise.all(instances.map(async (i) => (await state(i)).instance as string));
      const victim = instances[ids.indexOf(holder)]!;
      expect(victim).toBeDefined();
      const workerPid = (await state(victim)).pid as number;
      const exited = new Promise((r) => victim.child.once('exit', r));
      victim.child.kill('SIGKILL');
      process.kill(workerPid, 'SIGKILL');
      victim.alive = false;
      await exited;
      const survivor = instances.find((i) => i.alive)!;
      const done = await waitFor(async () => {
        const s = await state(survivor);
        if (s.canary.orders?.status === 'rolled-back') throw new Error(`rolled back: ${JSON.stringify(s.canary.orders.history.at(-1))}`);
        return s.canary.orders?.status === 'completed' ? s : undefined;
      }, 'the canary to complete from another instance', 90_000);
      expect(done.canaryController).not.toBe(holder);
      expect(ids).toContain(done.canaryController);
      expect(done.canary.orders.history.map((e: { event: string; weight: number }) => `${e.event}@${e.weight}`)).toEqual(expect.arrayContaining(['started@20', 'completed@100']));
      await waitFor(async () => (await weights()).every((w) => w === 100), 'every surviving instance at weight 100', 20_000);
      // The shared figures: fallbacks and shadow reports come from Redis on every instance alike.
      const [a, b] = await Promise.all(instances.filter((i) => i.alive).map(state));
      expect(a.fallbacks).toEqual(b.fallbacks);
    } finally {
      stop = true;
      await traffic;
    }
  }, 240_000);
});
