// What a careless or hostile client sends to the proxy: internal paths in every spelling, broken
// percent-encoding, tokens that never expire, a forced side without the right, admin calls that
// name nothing. Each is answered by the proxy itself with a problem document carrying a code and
// the request id, and none reaches an upstream it should not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import { SECRET, proxyWith, request, requestVerbatim, startUpstream, token, waitFor, type Reply, type Upstream } from './helpers.ts';
import type { RunningProxy } from '../src/proxy-server.ts';

let old: Upstream;
let fresh: Upstream;
let proxy: RunningProxy & { configPath: string };
let admin: { authorization: string };
const OVERRIDE_SECRET = 'shared-secret-0123456789';

beforeAll(async () => {
  old = await startUpstream('monolith');
  fresh = await startUpstream('orders');
  proxy = await proxyWith({
    pools: { monolith: { instances: [old.url] }, orders: { instances: [fresh.url] } },
    routes: [
      { name: 'orders', prefix: '/api/v1/orders', old: 'monolith', new: 'orders', weight: 0 },
      { name: 'private', prefix: '/api/v1/private', old: 'monolith', new: 'monolith', auth: { required: true } },
      { name: 'limited', prefix: '/api/v1/limited', old: 'monolith', new: 'monolith', rateLimit: { capacity: 1, refillPerSecond: 0.01 } },
    ],
    overrideSecret: OVERRIDE_SECRET,
  });
  admin = { authorization: `Bearer ${await token('ops', 'admin')}` };
});
afterAll(async () => {
  await proxy.close();
  await old.close();
  await fresh.close();
});

const seen = () => old.seen.length + fresh.seen.length;

/** A problem document written by the proxy: code, request id in body and header, no file path. */
function expectProblem(reply: Reply, status: number, code: string): Record<string, unknown> {
  expect(reply.status).toBe(status);
  expect(reply.headers['content-type']).toBe('application/problem+json');
  const body = reply.json();
  expect(body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String), instance: expect.any(String) });
  expect(body.requestId).toEqual(expect.any(String));
  expect(reply.headers['x-request-id']).toBe(body.requestId);
  expect(JSON.stringify(body)).not.toContain(proxy.configPath);
  expect(JSON.stringify(body)).not.toMatch(/\/tmp\/|proxy-test-/);
  return body;
}

describe('internal paths on the public port', () => {
  it('refuses contract endpoints, metrics and admin routes in any spelling, forwarding none of them', async () => {
    const before = seen();
    for (const path of [
      '/internal/contracts/payments/refund',
      '/INTERNAL/contracts/payments/refund',
      '/%69nternal/contracts/payments/refund',
      '/%2569nternal/contracts/payments/refund',
      '/internal%2Fcontracts%2Fpayments%2Frefund',
      '//internal/contracts/payments/refund',
      '/./internal/contracts/payments/refund',
      '/api/v1/orders/../../../internal/contracts/payments/refund',
      '/METRICS',
      '/Metrics',
      '/admin/dead-letters',
      '/_PROXY/state',
    ]) {
      const reply = await requestVerbatim(proxy.url, path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: admin.authorization }, body: '{"orderId":"o-1"}' });
      expectProblem(reply, 404, 'RouteNotFound');
    }
    expect(seen()).toBe(before);
  });

  it('answers its own probes whatever their case, without asking an upstream', async () => {
    const before = seen();
    for (const probe of ['/HEALTH/LIVE', '/Health/Ready', '/health/Started']) expect((await request(proxy.url, probe)).status).toBe(200);
    expectProblem(await request(proxy.url, '/health/nothing'), 404, 'RouteNotFound');
    expect(seen()).toBe(before);
  });

  it('serves /metrics, the admin API and the probes on the internal port', async () => {
    await request(proxy.url, '/api/v1/orders/1');
    expect((await request(proxy.internalUrl, '/metrics')).body).toContain('proxy_requests_total{route="orders"');
    expect((await request(proxy.internalUrl, '/_proxy/state', { headers: admin })).status).toBe(200);
    expect((await request(proxy.internalUrl, '/health/ready')).status).toBe(200);
    expectProblem(await request(proxy.internalUrl, '/api/v1/orders/1'), 404, 'RouteNotFound');
  });
});

describe('client input the proxy refuses itself', () => {
  it('answers 400 to broken percent-encoding in a path, forwarding nothing', async () => {
    const before = seen();
    expectProblem(await request(proxy.url, '/api/v2/orders/%ZZ'), 400, 'MalformedPath');
    expectProblem(await request(proxy.url, '/api/v1/orders/%E0%A4%A'), 400, 'MalformedPath');
    expect(seen()).toBe(before);
  });

  it('refuses a token without an expiry, or one that lives a hundred years, on a route and on the admin API', async () => {
    const key = new TextEncoder().encode(SECRET);
    const noExp = await new SignJWT({ scope: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('ops').setIssuedAt().sign(key);
    const century = await new SignJWT({ scope: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('ops').setIssuedAt().setExpirationTime('100y').sign(key);
    for (const t of [noExp, century]) {
      expectProblem(await request(proxy.url, '/api/v1/private/x', { headers: { authorization: `Bearer ${t}` } }), 401, 'Unauthenticated');
      expectProblem(await request(proxy.internalUrl, '/_proxy/state', { headers: { authorization: `Bearer ${t}` } }), 401, 'Unauthenticated');
    }
    // The scheme is case-insensitive; a well-formed token passes.
    expect((await request(proxy.url, '/api/v1/private/x', { headers: { authorization: `bearer ${await token('alice')}` } })).status).toBe(200);
  });

  it('writes its 401, 403, 404, 409 and 429 as problems with a code and the request id, never the config file path', async () => {
    expectProblem(await request(proxy.url, '/api/v1/private/x'), 401, 'Unauthenticated');
    expectProblem(await request(proxy.internalUrl, '/_proxy/state', { headers: { authorization: `Bearer ${await token('bob', 'orders:read')}` } }), 403, 'Forbidden');
    expectProblem(await request(proxy.internalUrl, '/_proxy/nothing', { headers: admin }), 404, 'RouteNotFound');
    expect((await request(proxy.url, '/api/v1/limited/1')).status).toBe(200);
    const limited = expectProblem(await request(proxy.url, '/api/v1/limited/1', { headers: { 'x-request-id': 'client-chosen-42' } }), 429, 'RateLimited');
    expect(limited.requestId).toBe('client-chosen-42');
    // An admin change while the file on disk is mid-edit is refused: 409, naming the line, not the file.
    const { readFileSync } = await import('node:fs');
    const valid = readFileSync(proxy.configPath, 'utf8');
    writeFileSync(proxy.configPath, '{ "pools": ');
    try {
      const body = expectProblem(
        await request(proxy.internalUrl, '/_proxy/routes/orders/weight', { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: '{"weight":10}' }),
        409,
        'ConfigFileInvalid',
      );
      expect(body.detail).toMatch(/invalid JSON at line 1/);
    } finally {
      writeFileSync(proxy.configPath, valid);
      proxy.reload();
    }
  });

  it('answers 404 to starting or stopping the canary of a route that does not exist', async () => {
    expectProblem(await request(proxy.internalUrl, '/_proxy/routes/nope/canary', { method: 'DELETE', headers: admin }), 404, 'UnknownRoute');
    expectProblem(await request(proxy.internalUrl, '/_proxy/routes/nope/canary', { method: 'POST', headers: admin }), 404, 'UnknownRoute');
  });

  it('answers 400 to an admin path with broken percent-encoding, and keeps serving', async () => {
    const reply = await request(proxy.internalUrl, '/_proxy/routes/%E0%A4%A/weight', { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: '{"weight":10}' });
    expectProblem(reply, 400, 'MalformedPath');
    expect((await request(proxy.url, '/api/v1/orders/1')).status).toBe(200);
  });

  it('refuses an admin body nested deeper than the limit before parsing it, and one too large', async () => {
    const deep = `{"weight":${'['.repeat(3000)}${']'.repeat(3000)}}`;
    const headers = { ...admin, 'content-type': 'application/json' };
    expectProblem(await request(proxy.internalUrl, '/_proxy/routes/orders/weight', { method: 'PUT', headers, body: deep }), 400, 'BodyTooDeep');
    expectProblem(await request(proxy.internalUrl, '/_proxy/routes/orders/weight', { method: 'PUT', headers, body: `{"weight":1,"pad":"${'x'.repeat(70_000)}"}` }), 413, 'BodyTooLarge');
    expectProblem(await request(proxy.internalUrl, '/_proxy/routes/orders/weight', { method: 'PUT', headers, body: '{"weight":' }), 400, 'MalformedJson');
    expectProblem(await request(proxy.internalUrl, '/_proxy/routes/orders/weight', { method: 'PUT', headers, body: '{"weight":"ten"}' }), 400, 'InvalidBody');
  });
});

describe('the forced-side header', () => {
  const served = async (headers: Record<string, string>) => (await request(proxy.url, '/api/v1/orders/1', { headers })).json<{ upstream: string }>().upstream;

  it('is ignored for an anonymous caller and for one without the tester scope', async () => {
    expect(await served({ 'x-proxy-side': 'new' })).toBe('monolith');
    expect(await served({ 'x-proxy-side': 'new', authorization: `Bearer ${await token('alice', 'orders:read')}` })).toBe('monolith');
    expect(await served({ 'x-proxy-side': 'new', 'x-proxy-side-secret': 'a wrong secret of some length' })).toBe('monolith');
  });

  it('is honoured for a tester, an admin, or the shared secret, whatever the case of its value', async () => {
    expect(await served({ 'x-proxy-side': 'NEW', authorization: `Bearer ${await token('tess', 'tester')}` })).toBe('orders');
    expect(await served({ 'x-proxy-side': 'New', authorization: `Bearer ${await token('ops', 'admin')}` })).toBe('orders');
    fresh.seen.length = 0;
    expect(await served({ 'x-proxy-side': 'new', 'x-proxy-side-secret': OVERRIDE_SECRET })).toBe('orders');
    // The secret is the proxy's: it is not passed on.
    expect(fresh.seen.at(-1)!.headers['x-proxy-side-secret']).toBeUndefined();
    proxy.setWeight('orders', 100);
    try {
      expect(await served({ 'x-proxy-side': 'Old', authorization: `Bearer ${await token('tess', 'tester')}` })).toBe('monolith');
    } finally {
      proxy.setWeight('orders', 0);
    }
    await waitFor(() => proxy.config().routes[0]!.weight === 0, 'the weight back at 0');
  });
});
