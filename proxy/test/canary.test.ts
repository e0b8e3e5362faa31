// Automatic canary. Steps advance while the new side's error rate and p99 stay
// within bounds of the old side's, and a breach sets the weight back to 0 with the reason recorded.
import { afterEach, describe, expect, it } from 'vitest';
import { startUpstream, proxyWith, request, token, twoSides, waitFor, type Upstream } from './helpers.ts';
import { readConfig } from '../src/config-file.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const canary = {
  steps: [
    { weight: 20, dwellMs: 200 },
    { weight: 50, dwellMs: 200 },
    { weight: 100, dwellMs: 200 },
  ],
  minRequests: 15,
  maxErrorRateIncrease: 0.05,
  maxP99Ratio: 2,
  p99SlackMs: 20,
};

async function setup(overrides: Partial<typeof canary> = {}) {
  const old = await startUpstream('monolith');
  const fresh = await startUpstream('orders');
  const proxy = await proxyWith(twoSides(old, fresh, { canary: { ...canary, ...overrides } }));
  cleanup.push(() => fresh.close(), () => old.close(), () => proxy.close());
  const users = await Promise.all(Array.from({ length: 60 }, (_, i) => token(`c-${i}`)));
  const adminHeaders = { authorization: `Bearer ${await token('ops', 'admin')}` };
  const traffic = () =>
    Promise.all(users.map((u) => request(proxy.url, '/api/v1/orders/1', { headers: { authorization: `Bearer ${u}` } })));
  const status = async () => (await request(proxy.internalUrl, '/_proxy/canary', { headers: adminHeaders })).json<any>().orders;
  const start = () => request(proxy.internalUrl, '/_proxy/routes/orders/canary', { method: 'POST', headers: adminHeaders });
  return { old, fresh, proxy, traffic, status, start };
}

const serverError = (fresh: Upstream, share: number) => {
  let n = 0;
  fresh.behave((req, res) => {
    if (req.url === '/health/ready') return void res.end('ok');
    res.writeHead(n++ % Math.round(1 / share) === 0 ? 500 : 200, { 'content-type': 'application/json' });
    res.end('{}');
  });
};

describe('automatic canary', () => {
  it('advances through every step while the new side holds, ending at weight 100', async () => {
    // Generous latency slack: identical sides on a busy machine must not be judged a breach.
    const { proxy, traffic, status, start } = await setup({ p99SlackMs: 250 });
    expect((await start()).status).toBe(202);
    expect(readConfig(proxy.configPath).routes[0]!.weight).toBe(20);
    const done = await waitFor(async () => {
      await traffic();
      const s = await status();
      return s.status === 'completed' ? s : undefined;
    }, 'the canary to complete', 30_000);
    expect(done.history.map((e: { event: string; weight: number }) => `${e.event}@${e.weight}`)).toEqual([
      'started@20',
      'advanced@50',
      'advanced@100',
      'completed@100',
    ]);
    expect(readConfig(proxy.configPath).routes[0]!.weight).toBe(100);
    expect((await request(proxy.internalUrl, '/metrics')).body).toContain('proxy_canary_state{route="orders"} 2');
  });

  it('rolls back to weight 0 on an error-rate breach and records why', async () => {
    const { fresh, proxy, traffic, status, start } = await setup();
    serverError(fresh, 0.25);
    await start();
    const rolled = await waitFor(async () => {
      await traffic();
      const s = await status();
      return s.status === 'rolled-back' ? s : undefined;
    }, 'the canary to roll back', 30_000);
    const last = rolled.history.at(-1);
    expect(last.event).toBe('rolled-back');
    expect(last.reason).toMatch(/^error rate \d+\.\d% on the new side vs 0\.0% on the old side/);
    expect(last.step.new.errors).toBeGreaterThan(0);
    expect(readConfig(proxy.configPath).routes[0]!.weight).toBe(0);
    expect(proxy.config().routes[0]!.weight).toBe(0);
  });

  it('rolls back on a p99 breach', async () => {
    const { fresh, proxy, traffic, status, start } = await setup({ p99SlackMs: 100 });
    fresh.behave((req, res) => {
      if (req.url === '/health/ready') return void res.end('ok');
      setTimeout(() => res.end('{}'), 600); // the new side is much slower than the old one
    });
    await start();
    const rolled = await waitFor(async () => {
      await traffic();
      const s = await status();
      return s.status === 'rolled-back' ? s : undefined;
    }, 'the canary to roll back', 30_000);
    expect(rolled.history.at(-1).reason).toMatch(/^p99 \d+\.\d ms on the new side/);
    expect(readConfig(proxy.configPath).routes[0]!.weight).toBe(0);
  });

  it('stops a running canary when an operator sets the weight by hand', async () => {
    const { proxy, status, start } = await setup();
    await start();
    proxy.setWeight('orders', 5);
    const s = await status();
    expect(s.status).toBe('aborted');
    expect(s.history.at(-1).reason).toContain('weight set to 5');
    expect(readConfig(proxy.configPath).routes[0]!.weight).toBe(5);
  });
});
