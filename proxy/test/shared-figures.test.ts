// Proxies sharing one table count shadow comparisons and fallbacks together: the admin API of any
// of them shows what all of them saw.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { proxyWith, request, startUpstream, tempConfig, token, twoSides, waitFor, type Upstream } from './helpers.ts';
import type { RunningProxy } from '../src/proxy-server.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
let old: Upstream;
let fresh: Upstream;
let a: RunningProxy;
let b: RunningProxy;
let admin: Record<string, string>;

beforeAll(async () => {
  old = await startUpstream('monolith');
  fresh = await startUpstream('orders');
  const config = twoSides(old, fresh, { weight: 100, shadow: { percent: 100 } });
  const prefix = `proxy-figures-test:${randomUUID()}:`;
  a = await proxyWith(config, { redisUrl: REDIS_URL, redisPrefix: prefix, configPath: tempConfig(config) });
  b = await proxyWith(config, { redisUrl: REDIS_URL, redisPrefix: prefix, configPath: tempConfig(config) });
  admin = { authorization: `Bearer ${await token('ops', 'admin')}` };
});
afterAll(async () => {
  await a.close();
  await b.close();
  await old.close();
  await fresh.close();
});

describe('figures shared through Redis', () => {
  it('adds up every proxy’s shadow comparisons and fallbacks, whichever admin API is asked', async () => {
    for (let i = 0; i < 3; i++) expect((await request(a.url, `/api/v1/orders/${i}`)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await request(b.url, `/api/v1/orders/${i}`)).status).toBe(200);
    for (const p of [a, b]) {
      await waitFor(async () => (await request(p.internalUrl, '/_proxy/shadow', { headers: admin })).json<any>().routes.orders?.compared === 5, 'five comparisons from both');
    }
    fresh.behave((req, res) => (req.url === '/health/ready' ? res.end('ok') : (res.writeHead(503), res.end())));
    try {
      await request(a.url, '/api/v1/orders/9');
      await request(b.url, '/api/v1/orders/9');
    } finally {
      fresh.behave(undefined);
    }
    for (const p of [a, b]) {
      await waitFor(async () => (await request(p.internalUrl, '/_proxy/fallbacks', { headers: admin })).json<any>().orders?.['new→old'] === 2, 'two fallbacks from both');
    }
  });
});
