// Token buckets per client, 429 with Retry-After; shared through Redis so two
// proxy instances enforce one limit. Uses the real Redis at 127.0.0.1:6379 with a unique key prefix.
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startUpstream, proxyWith, request, tempConfig, token, type Upstream } from './helpers.ts';
import { MemoryRateLimiter } from '../src/rate-limit.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function upstream(): Promise<Upstream> {
  const u = await startUpstream('monolith');
  cleanup.push(() => u.close());
  return u;
}

describe('rate limiting', () => {
  it('answers 429 with Retry-After and a problem document once a client’s bucket is empty', async () => {
    const u = await upstream();
    const p = await proxyWith({ pools: { monolith: { instances: [u.url] } }, rateLimit: { capacity: 3, refillPerSecond: 0.2 } });
    cleanup.push(() => p.close());
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(p.url, '/api/v1/products')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await request(p.url, '/api/v1/products');
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.headers['content-type']).toBe('application/problem+json');
    expect(refused.json()).toMatchObject({ status: 429, title: 'Too Many Requests' });
    expect(u.seen).toHaveLength(3);
    expect((await request(p.internalUrl, '/metrics')).body).toContain('proxy_rate_limited_total{route="(default)"} 2');
  });

  it('keys buckets by the verified JWT subject on routes that check tokens', async () => {
    const u = await upstream();
    const p = await proxyWith({
      pools: { monolith: { instances: [u.url] } },
      routes: [{ name: 'orders', prefix: '/api/v1/orders', old: 'monolith', new: 'monolith', auth: { required: true }, rateLimit: { capacity: 2, refillPerSecond: 0.1 } }],
    });
    cleanup.push(() => p.close());
    const alice = { authorization: `Bearer ${await token('alice')}` };
    const bob = { authorization: `Bearer ${await token('bob')}` };
    expect((await request(p.url, '/api/v1/orders', { headers: alice })).status).toBe(200);
    expect((await request(p.url, '/api/v1/orders', { headers: alice })).status).toBe(200);
    expect((await request(p.url, '/api/v1/orders', { headers: alice })).status).toBe(429);
    expect((await request(p.url, '/api/v1/orders', { headers: bob })).status).toBe(200);
  });

  it('refills over time (token bucket arithmetic)', () => {
    const limiter = new MemoryRateLimiter();
    const limit = { capacity: 2, refillPerSecond: 1000 };
    expect(limiter.take('k', limit).allowed).toBe(true);
    expect(limiter.take('k', limit).allowed).toBe(true);
    // At 1000 tokens/s a token is back within a few ms: poll rather than sleep.
    const deadline = Date.now() + 1000;
    let allowed = false;
    while (!allowed && Date.now() < deadline) allowed = limiter.take('k', limit).allowed;
    expect(allowed).toBe(true);
  });

  it('enforces one limit across two proxy instances through Redis', async () => {
    const u = await upstream();
    const config = { pools: { monolith: { instances: [u.url] } }, rateLimit: { capacity: 5, refillPerSecond: 0.1 } };
    const prefix = `proxy-test:${randomUUID()}:`;
    const a = await proxyWith(config, { redisUrl: REDIS_URL, redisPrefix: prefix, configPath: tempConfig(config) });
    const b = await proxyWith(config, { redisUrl: REDIS_URL, redisPrefix: prefix, configPath: tempConfig(config) });
    cleanup.push(() => a.close(), () => b.close());
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await request(i % 2 ? b.url : a.url, '/x')).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    const refused = await request(a.url, '/x');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});

describe('JWT check per route', () => {
  it('refuses a missing or forged token with 401 and a missing scope with 403', async () => {
    const u = await upstream();
    const p = await proxyWith({
      pools: { monolith: { instances: [u.url] } },
      routes: [{ name: 'admin', prefix: '/api/v1/admin', old: 'monolith', new: 'monolith', auth: { required: true, scope: 'orders:write' } }],
    });
    cleanup.push(() => p.close());
    expect((await request(p.url, '/api/v1/admin')).status).toBe(401);
    const forged = (await token('eve', 'orders:write')).replace(/\.[^.]+$/, '.AAAA');
    expect((await request(p.url, '/api/v1/admin', { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
    expect((await request(p.url, '/api/v1/admin', { headers: { authorization: `Bearer ${await token('bob', 'orders:read')}` } })).status).toBe(403);
    expect((await request(p.url, '/api/v1/admin', { headers: { authorization: `Bearer ${await token('bob', 'orders:read orders:write')}` } })).status).toBe(200);
    expect((await request(p.url, '/api/v1/other')).status).toBe(200);
  });
});
