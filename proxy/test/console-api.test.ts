// The migration console's side of the admin API, called as a browser or a script would: the page
// and its headers, the token and scope checks, the refusal of cross-site requests, the confirmation
// a large weight change needs, canary pause and resume, the audit log (a file beside the config, or
// Redis shared by replicas), and the dead-letter replay that only goes to a known deployable.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { readConfig } from '../src/config-file.ts';
import { sideFor } from '../src/side-assignment.ts';
import { proxyWith, request, startUpstream, tempConfig, token, twoSides, waitFor, type Upstream } from './helpers.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const canary = { steps: [{ weight: 10, dwellMs: 60_000 }, { weight: 50, dwellMs: 60_000 }], minRequests: 1000 };

async function bench(route: Record<string, unknown> = {}, extra: Parameters<typeof proxyWith>[1] = {}, config: Record<string, unknown> = {}) {
  const old = await startUpstream('monolith');
  const fresh = await startUpstream('orders');
  const proxy = await proxyWith({ ...twoSides(old, fresh, { canary, ...route }), ...config }, extra);
  cleanup.push(() => fresh.close(), () => old.close(), () => proxy.close());
  const admin = { authorization: `Bearer ${await token('ops', 'admin')}`, 'content-type': 'application/json' };
  const call = (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    request(proxy.internalUrl, `/_proxy/${path}`, { method: init.method ?? 'GET', headers: { ...admin, ...init.headers }, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const weight = () => readConfig(proxy.configPath).routes[0]!.weight;
  const auditFile = join(dirname(proxy.configPath), 'config.audit.jsonl');
  const auditLines = () => readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { old, fresh, proxy, admin, call, weight, auditLines };
}

describe('the console page', () => {
  it('is served without a token, holds no data, and forbids inline script, framing and sniffing', async () => {
    const { proxy } = await bench();
    const page = await request(proxy.internalUrl, '/_proxy/console');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['access-control-allow-origin']).toBeUndefined();
    // No inline script or style for the policy to have to allow, and nothing of the live state.
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.body).not.toMatch(/\sstyle=/);
    expect(page.body).not.toContain('/api/v1/orders');
    const script = await request(proxy.internalUrl, '/_proxy/console/console.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
  });

  it('serves only its own files', async () => {
    const { proxy } = await bench();
    for (const path of ['/_proxy/console/nope.js', '/_proxy/console/%2e%2e/%2e%2e/src/main.ts', '/_proxy/console/../../package.json']) {
      const reply = await request(proxy.internalUrl, path);
      expect(reply.status, path).toBe(404);
      expect(reply.body, path).not.toContain('"name"');
    }
    expect((await request(proxy.internalUrl, '/_proxy/console', { method: 'POST' })).status).toBe(405);
  });
});

describe('the console API', () => {
  it('answers only an admin token, and never with a CORS header', async () => {
    const { proxy, call } = await bench();
    const user = { authorization: `Bearer ${await token('bob', 'orders:read')}` };
    for (const [method, path] of [['GET', 'summary'], ['GET', 'audit'], ['POST', 'dead-letters/replay'], ['POST', 'routes/orders/canary/pause'], ['PUT', 'routes/orders/weight']] as const) {
      const none = await request(proxy.internalUrl, `/_proxy/${path}`, { method });
      expect(none.status, `${method} ${path}`).toBe(401);
      expect(none.json()).toMatchObject({ code: 'Unauthenticated' });
      expect((await request(proxy.internalUrl, `/_proxy/${path}`, { method, headers: user })).status, `${method} ${path}`).toBe(403);
    }
    const summary = await call('summary');
    expect(summary.status).toBe(200);
    expect(summary.headers['access-control-allow-origin']).toBeUndefined();
    expect(summary.headers['cache-control']).toBe('no-store');
    expect(summary.json<any>().routes[0]).toMatchObject({ name: 'orders', weight: 0, old: 'monolith', new: 'orders' });
  });

  it('refuses cross-site and cross-origin requests before acting on them', async () => {
    const { call, weight, proxy } = await bench();
    const refusals: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'http://evil.example' },
      { origin: proxy.url }, // the public port is another origin
    ];
    for (const headers of refusals) {
      const reply = await call('routes/orders/weight', { method: 'PUT', body: { weight: 5 }, headers });
      expect(reply.status, JSON.stringify(headers)).toBe(403);
      expect(reply.json()).toMatchObject({ code: 'CrossSiteRefused' });
    }
    expect(weight()).toBe(0);
    const preflight = await request(proxy.internalUrl, '/_proxy/routes/orders/weight', { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'PUT' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    // The console's own calls: same origin.
    const own = await call('routes/orders/weight', { method: 'PUT', body: { weight: 5 }, headers: { 'sec-fetch-site': 'same-origin', origin: proxy.internalUrl } });
    expect(own.status).toBe(200);
    expect(weight()).toBe(5);
  });

  it('refuses a weight jump larger than the confirmation step unless confirmed, and keeps the file as it was', async () => {
    const { call, weight } = await bench();
    const refused = await call('routes/orders/weight', { method: 'PUT', body: { weight: 26 } });
    expect(refused.status).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'ConfirmationRequired', detail: expect.stringMatching(/from 0 to 26 shifts 26 points.*step of 25.*"confirm": true/) });
    expect(weight()).toBe(0);
    expect((await call('routes/orders/weight', { method: 'PUT', body: { weight: 25 } })).status).toBe(200); // exactly the step
    expect((await call('routes/orders/weight', { method: 'PUT', body: { weight: 100, confirm: false } })).status).toBe(409);
    expect((await call('routes/orders/weight', { method: 'PUT', body: { weight: 100, confirm: true } })).json()).toEqual({ route: 'orders', weight: 100, from: 25 });
    expect(weight()).toBe(100);
    // Downwards too: all users back to the old side at once is a large move as well.
    expect((await call('routes/orders/weight', { method: 'PUT', body: { weight: 0 } })).status).toBe(409);
    expect((await call('routes/orders/weight', { method: 'PUT', body: { weight: 'ten', confirm: true } })).json()).toMatchObject({ code: 'InvalidBody' });
  });

  it('takes the confirmation step from the config', async () => {
    const { call, weight } = await bench({}, {}, { console: { confirmStep: 5 } });
    expect((await call('routes/orders/weight', { method: 'PUT', body: { weight: 6 } })).status).toBe(409);
    expect((await call('routes/orders/weight', { method: 'PUT', body: { weight: 5 } })).status).toBe(200);
    expect(weight()).toBe(5);
    expect((await call('summary')).json<any>().confirmStep).toBe(5);
  });

  it('pauses and resumes a running canary, and refuses either when there is nothing to pause or resume', async () => {
    const { call, weight } = await bench();
    expect((await call('routes/orders/canary/pause', { method: 'POST' })).json()).toMatchObject({ code: 'CanaryNotRunning', detail: expect.stringMatching(/not started/) });
    expect((await call('routes/orders/canary', { method: 'POST' })).status).toBe(202);
    expect(weight()).toBe(10);
    expect((await call('routes/orders/canary/resume', { method: 'POST' })).json()).toMatchObject({ code: 'CanaryNotPaused' });
    expect((await call('routes/orders/canary/pause', { method: 'POST' })).json()).toEqual({ route: 'orders', canary: 'paused', from: 'running' });
    expect((await call('canary')).json<any>().orders.status).toBe('paused');
    expect((await call('routes/orders/canary/resume', { method: 'POST' })).json()).toEqual({ route: 'orders', canary: 'resumed', from: 'paused' });
    expect((await call('canary')).json<any>().orders.status).toBe('running');
    expect((await call('routes/orders/canary', { method: 'DELETE' })).json()).toEqual({ route: 'orders', canary: 'aborted', from: 'running' });
    expect((await call('routes/nope/canary/pause', { method: 'POST' })).json()).toMatchObject({ code: 'UnknownRoute' });
  });

  it('writes who did what, when and from which value to which, refusals included, beside the config file', async () => {
    const { call, auditLines } = await bench();
    await call('routes/orders/weight', { method: 'PUT', body: { weight: 20 } });
    await call('routes/orders/weight', { method: 'PUT', body: { weight: 90 } });
    await call('routes/orders/canary', { method: 'POST' });
    await call('routes/orders/canary/pause', { method: 'POST', headers: { authorization: `Bearer ${await token('ana', 'admin')}` } });
    const lines = auditLines();
    expect(lines.map(({ who, action, target, from, to, outcome }) => ({ who, action, target, from, to, outcome }))).toEqual([
      { who: 'ops', action: 'set-weight', target: 'orders', from: 0, to: 20, outcome: 'applied' },
      { who: 'ops', action: 'set-weight', target: 'orders', from: undefined, to: undefined, outcome: 'refused' },
      { who: 'ops', action: 'start-canary', target: 'orders', from: 'none', to: 'running', outcome: 'applied' },
      { who: 'ana', action: 'pause-canary', target: 'orders', from: 'running', to: 'paused', outcome: 'applied' },
    ]);
    expect(lines[1]!.detail).toMatch(/^ConfirmationRequired: moving route "orders" from 20 to 90/);
    for (const l of lines) expect(Date.now() - Date.parse(l.at as string)).toBeLessThan(60_000);
    // The API lists them newest first, and the summary carries the latest for the page.
    const audit = (await call('audit?limit=2')).json<any>();
    expect(audit.where).toMatch(/^file .*config\.audit\.jsonl$/);
    expect(audit.entries.map((e: { action: string }) => e.action)).toEqual(['pause-canary', 'start-canary']);
    expect((await call('summary')).json<any>().audit.entries).toHaveLength(4);
    // Reads do not write: only changes are audited.
    await call('state');
    expect(auditLines()).toHaveLength(4);
  });

  it('replays a dead letter only through an instance the topology names', async () => {
    const topologyFile = join(dirname(tempConfig({ pools: {} })), 'topology.json');
    writeFileSync(topologyFile, JSON.stringify({ monolith: { urls: ['http://127.0.0.1:1'] }, modules: {} }));
    const { call, auditLines } = await bench({}, { console: { topologyFile } });
    const elsewhere = await call('dead-letters/replay', { method: 'POST', body: { instance: 'http://169.254.169.254', module: 'orders', seq: 1 } });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.json()).toMatchObject({ code: 'UnknownInstance' });
    // A named instance that is down: the proxy says so rather than pretending.
    const down = await call('dead-letters/replay', { method: 'POST', body: { instance: 'http://127.0.0.1:1', module: 'orders', seq: 1 } });
    expect(down.status).toBe(502);
    expect(down.json()).toMatchObject({ code: 'DeployableUnreachable' });
    expect(auditLines().map((l) => `${l.action} ${l.target} ${l.outcome}`)).toEqual([
      'replay-dead-letter orders#1 at http://169.254.169.254 failed',
      'replay-dead-letter orders#1 at http://127.0.0.1:1 failed',
    ]);
    expect((await call('dead-letters/replay', { method: 'POST', body: { module: 'orders' } })).json()).toMatchObject({ code: 'InvalidBody' });
  });

  it('lists the failing requests it forwarded with their trace ids, and counts each side’s traffic and errors', async () => {
    const { call, fresh, proxy } = await bench({ weight: 100 });
    fresh.behave((req, res) => {
      if (req.url === '/health/ready') return void res.end('ok');
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('down');
    });
    const traceId = randomBytes(16).toString('hex');
    const reply = await request(proxy.url, '/api/v1/orders/7?card=4111', { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });
    expect(reply.status).toBe(200); // the old side answered
    const summary = await waitFor(async () => {
      const s = (await call('summary')).json<any>();
      return s.failures.length ? s : undefined;
    }, 'the failing request in the summary');
    expect(summary.failures[0]).toMatchObject({ traceId, method: 'GET', path: '/api/v1/orders/7', route: 'orders', side: 'old', failedSide: 'new', status: 200 });
    expect(JSON.stringify(summary.failures)).not.toContain('4111'); // never the query string
    const points = summary.routes[0].traffic as { old: { requests: number; errors: number }; new: { requests: number; errors: number } }[];
    expect(points).toHaveLength(24);
    const sum = (side: 'old' | 'new', f: 'requests' | 'errors') => points.reduce((n, p) => n + p[side][f], 0);
    expect([sum('old', 'requests'), sum('old', 'errors'), sum('new', 'requests'), sum('new', 'errors')]).toEqual([1, 0, 1, 1]);
  });
});

describe('the console on replicas sharing Redis', () => {
  it('shows every replica the same weights, canary, traffic, failures and audit log, whichever one is asked', async () => {
    const prefix = `console-test-${randomBytes(4).toString('hex')}:`;
    const redis = new Redis(REDIS_URL);
    cleanup.push(async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    });
    const old: Upstream = await startUpstream('monolith');
    const fresh: Upstream = await startUpstream('orders');
    cleanup.push(() => fresh.close(), () => old.close());
    const config = twoSides(old, fresh, { canary });
    const a = await proxyWith(config, { redisUrl: REDIS_URL, redisPrefix: prefix });
    cleanup.push(() => a.close());
    const b = await proxyWith(config, { redisUrl: REDIS_URL, redisPrefix: prefix });
    cleanup.push(() => b.close());
    const admin = { authorization: `Bearer ${await token('ops', 'admin')}`, 'content-type': 'application/json' };
    const summaryOf = async (p: typeof a) => (await request(p.internalUrl, '/_proxy/summary', { headers: admin })).json<any>();

    expect((await request(a.internalUrl, '/_proxy/routes/orders/weight', { method: 'PUT', headers: admin, body: '{"weight":60,"confirm":true}' })).status).toBe(200);
    await waitFor(async () => (await summaryOf(b)).routes[0].weight === 60, 'the weight on the other replica');
    expect((await request(b.internalUrl, '/_proxy/routes/orders/canary', { method: 'POST', headers: admin })).status).toBe(202);
    await waitFor(async () => (await summaryOf(a)).routes[0].canary?.status === 'running', 'the canary seen from the first replica', 10_000);
    expect((await request(a.internalUrl, '/_proxy/routes/orders/canary/pause', { method: 'POST', headers: admin })).status).toBe(202);
    await waitFor(async () => (await summaryOf(b)).routes[0].canary?.status === 'paused', 'the pause seen from the other replica', 10_000);

    fresh.behave((req, res) => (req.url === '/health/ready' ? res.end('ok') : (res.writeHead(500), res.end())));
    // At the canary's first step (weight 10): users chosen so that some are on each side.
    const names = Array.from({ length: 200 }, (_, i) => `u${i}`);
    const chosen = [...names.filter((n) => sideFor(10, `sub:${n}`, 'orders') === 'new').slice(0, 4), ...names.filter((n) => sideFor(10, `sub:${n}`, 'orders') === 'old').slice(0, 16)];
    for (const n of chosen) await request(a.url, '/api/v1/orders/1', { headers: { authorization: `Bearer ${await token(n)}` } });
    const fromB = await waitFor(async () => {
      const s = await summaryOf(b);
      const requests = s.routes[0].traffic.reduce((n: number, p: { old: { requests: number }; new: { requests: number } }) => n + p.old.requests + p.new.requests, 0);
      return requests >= 20 && s.failures.length ? s : undefined;
    }, 'the first replica’s traffic and failures seen from the other', 10_000);
    expect(fromB.proxy.shared).toBe(true);
    expect(fromB.failures[0]).toMatchObject({ route: 'orders', side: 'new', status: 500 });
    expect(fromB.audit.where).toBe(`Redis list ${prefix}console:audit`);
    expect(fromB.audit.entries.map((e: { action: string; proxy: string }) => e.action)).toEqual(['pause-canary', 'start-canary', 'set-weight']);
    // Each entry names the replica that took the request.
    expect(new Set(fromB.audit.entries.map((e: { proxy: string }) => e.proxy)).size).toBe(2);
  });
});
