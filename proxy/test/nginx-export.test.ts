// nginx driven by `npm run proxy -- export nginx` routes like the built-in proxy: every user on the
// same side at the same weight (the same key and bucket, computed by njs), the same cookie for a
// new client, the same routes, forced side for the shared secret, internal paths refused, edge
// headers set, fallback for requests safe to repeat, and weights shifted under load by re-export
// and reload without a failed request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import autocannon from 'autocannon';
import { readConfig, readRawConfig, writeConfig } from '../src/config-file.ts';
import { setWeight } from '../src/config-edit.ts';
import { proxyWith, request, requestVerbatim, startUpstream, tempConfig, waitFor, type Behaviour, type Upstream } from './helpers.ts';
import { startNginx, type RunningNginx } from './nginx-engine.ts';
import type { RunningProxy } from '../src/proxy-server.ts';
import { sideFor } from '../src/side-assignment.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const nginxErrors = (n: RunningNginx) => readFileSync(join(n.dir, 'error.log'), 'utf8').split('\n').slice(-40).join('\n');

const SECRET = 'nginx-shared-secret-0123';
let old: Upstream;
let fresh: Upstream;
let configPath: string;
let nginx: RunningNginx;
let builtin: RunningProxy;

/** An unsigned token: both engines read its subject only to choose a side. */
const tokenFor = (sub: string) => `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub })).toString('base64url')}.x`;

beforeAll(async () => {
  old = await startUpstream('monolith');
  fresh = await startUpstream('orders');
  configPath = tempConfig({
    pools: { monolith: { instances: [old.url] }, orders: { instances: [fresh.url] } },
    routes: [
      { name: 'orders', prefix: '/api/v1/orders', old: 'monolith', new: 'orders', weight: 0 },
      { name: 'orders-writes', prefix: '/api/v1/orders/write', methods: ['POST'], old: 'monolith', new: 'orders', weight: 100 },
    ],
    overrideSecret: SECRET,
  });
  nginx = await startNginx(configPath);
  builtin = await proxyWith(readRawConfig(configPath), { configPath, watchIntervalMs: 50 });
}, 60_000);
afterAll(async () => {
  await nginx?.stop();
  await builtin?.close();
  await old?.close();
  await fresh?.close();
});

function setWeightEverywhere(weight: number): void {
  writeConfig(configPath, setWeight(readRawConfig(configPath), 'orders', weight));
  builtin.reload();
  nginx.reload();
}
const served = async (base: string, path: string, headers: Record<string, string> = {}) => (await request(base, path, { headers })).json<{ upstream: string }>().upstream;
/** nginx applies a reload as its old workers finish: ask until its answers for a few users say `weight`. */
async function settled(weight: number): Promise<void> {
  const probes = Array.from({ length: 40 }, (_, i) => `probe-${i}`);
  await waitFor(async () => {
    for (const sub of probes) {
      const expected = sideFor(weight, `sub:${sub}`, 'orders') === 'new' ? 'orders' : 'monolith';
      if ((await served(nginx.url, '/api/v1/orders/1', { authorization: tokenFor(sub) })) !== expected) return false;
    }
    return builtin.config().routes[0]!.weight === weight;
  }, `both engines at weight ${weight}`, 20_000);
}

describe('nginx driven by the export', () => {
  it('puts every user on the same side as the built-in proxy, at every weight, by the same bucket', async () => {
    const subs = [...Array.from({ length: 240 }, (_, i) => `user-${i}`), 'é-accent', '漢字-user', 'a'.repeat(150), 'alice@example.com'];
    for (const weight of [1, 37, 50, 99]) {
      setWeightEverywhere(weight);
      await settled(weight);
      const differ: string[] = [];
      for (const sub of subs) {
        const headers = { authorization: tokenFor(sub) };
        const [a, b] = [await served(nginx.url, '/api/v1/orders/1', headers), await served(builtin.url, '/api/v1/orders/1', headers)];
        if (a !== b) differ.push(`${sub}: nginx ${a}, built-in ${b}`);
      }
      expect(differ, `weight ${weight}`).toEqual([]);
    }
  }, 120_000);

  it('gives a client with no key the same cookie as the built-in proxy, which keeps it on its side', async () => {
    setWeightEverywhere(50);
    await settled(50);
    const viaNginx = await request(nginx.url, '/api/v1/orders/1', { agent: false });
    const viaBuiltin = await request(builtin.url, '/api/v1/orders/1', { agent: false });
    const cookie = String(viaNginx.headers['set-cookie']).split(';')[0]!;
    expect(cookie).toMatch(/^proxy_uid=/);
    expect(String(viaBuiltin.headers['set-cookie']).split(';')[0]).toBe(cookie);
    const side = viaNginx.json<{ upstream: string }>().upstream;
    expect(viaBuiltin.json<{ upstream: string }>().upstream).toBe(side);
    for (let i = 0; i < 5; i++) expect(await served(nginx.url, '/api/v1/orders/2', { cookie })).toBe(side);
  });

  it('routes by prefix at a segment boundary and by method, and sends the rest to the default pool', async () => {
    setWeightEverywhere(100);
    await settled(100);
    expect(await served(nginx.url, '/api/v1/orders/1')).toBe('orders');
    expect(await served(nginx.url, '/api/v1/orders?page=2')).toBe('orders');
    expect(await served(nginx.url, '/api/v1/ordersX')).toBe('monolith');
    expect(await served(nginx.url, '/api/v1/products')).toBe('monolith');
    setWeightEverywhere(0);
    await settled(0);
    for (let i = 0; i < 20; i++) expect(await served(nginx.url, '/api/v1/orders/1', { authorization: tokenFor(`u${i}`) })).toBe('monolith');
    // The POST-only route sends writes to the new side at 100; a GET under its prefix is the orders route's.
    expect((await request(nginx.url, '/api/v1/orders/write', { method: 'POST', body: '{}' })).json<{ upstream: string }>().upstream).toBe('orders');
    expect(await served(nginx.url, '/api/v1/orders/write')).toBe('monolith');
  });

  it('keeps users where they were when the weight rises, moving only new ones to the new side', async () => {
    const users = Array.from({ length: 120 }, (_, i) => tokenFor(`riser-${i}`));
    let previous = new Set<number>();
    for (const weight of [10, 20, 35]) {
      setWeightEverywhere(weight);
      await settled(weight);
      const onNew = new Set<number>();
      for (let i = 0; i < users.length; i++) if ((await served(nginx.url, '/api/v1/orders/1', { authorization: users[i]! })) === 'orders') onNew.add(i);
      for (const i of previous) expect(onNew.has(i)).toBe(true);
      previous = onNew;
    }
  });

  it('honours the forced side only with the shared secret, in any case', async () => {
    setWeightEverywhere(0);
    await settled(0);
    expect(await served(nginx.url, '/api/v1/orders/1', { 'x-proxy-side': 'new' })).toBe('monolith');
    expect(await served(nginx.url, '/api/v1/orders/1', { 'x-proxy-side': 'NEW', 'x-proxy-side-secret': SECRET })).toBe('orders');
    fresh.seen.length = 0;
    await served(nginx.url, '/api/v1/orders/1', { 'x-proxy-side': 'new', 'x-proxy-side-secret': SECRET });
    expect(fresh.seen.at(-1)!.headers['x-proxy-side-secret']).toBeUndefined();
  });

  it('refuses internal paths in any spelling with a problem, answers its probes, and sets the edge headers', async () => {
    const before = old.seen.length + fresh.seen.length;
    for (const path of ['/internal/contracts/payments/refund', '/METRICS', '/%2569nternal/x', '//admin/dead-letters', '/api/../_proxy/state', '/api/v1/orders/%2e%2e/%2e%2e/%2e%2e/metrics']) {
      const r = await requestVerbatim(nginx.url, path, { method: 'POST', body: '{}' });
      expect(r.status, path).toBe(404);
      expect(r.headers['content-type']).toBe('application/problem+json');
      expect(r.json()).toMatchObject({ code: 'RouteNotFound', requestId: r.headers['x-request-id'] });
    }
    // A broken encoding is a 400 and reaches no upstream: the export's problem where nginx's parser lets
    // the path through, nginx's own 400 page where it refuses the request line itself (no location,
    // so no error_page, runs for those).
    expect((await requestVerbatim(nginx.url, '/api/v2/orders/%C0%AF')).json()).toMatchObject({ status: 400, code: 'MalformedPath' });
    for (const path of ['/api/v2/orders/%E0%A4%A', '/api/v2/orders/%ZZ']) expect((await requestVerbatim(nginx.url, path)).status, path).toBe(400);
    expect(old.seen.length + fresh.seen.length).toBe(before);
    for (const probe of ['/health/live', '/HEALTH/READY']) expect((await request(nginx.url, probe)).status).toBe(200);

    old.seen.length = 0;
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const reply = await request(nginx.url, '/api/v1/orders/9', { headers: { 'x-request-id': 'req-42', traceparent: `00-${traceId}-00f067aa0ba902b7-01`, host: 'shop.example' } });
    const seen = old.seen.at(-1)!;
    expect(reply.headers['x-request-id']).toBe('req-42');
    expect(seen.headers['x-request-id']).toBe('req-42');
    expect(seen.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(seen.headers.traceparent).not.toContain('00f067aa0ba902b7');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-host']).toBe('shop.example');
    const fresh2 = await request(nginx.url, '/api/v1/orders/9');
    expect(fresh2.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('falls back to the other side for a request safe to repeat, and not for a plain POST', async () => {
    setWeightEverywhere(100);
    await settled(100);
    fresh.behave((req, res) => (req.url === '/health/ready' ? res.end('ok') : (res.writeHead(503, { 'content-type': 'text/plain' }), res.end('busy'))));
    try {
      expect(await served(nginx.url, '/api/v1/orders/1')).toBe('monolith');
      const keyed = await request(nginx.url, '/api/v1/orders', { method: 'POST', headers: { 'idempotency-key': 'k-1' }, body: '{"a":1}' });
      expect(keyed.json()).toMatchObject({ upstream: 'monolith', body: '{"a":1}' });
      expect((await request(nginx.url, '/api/v1/orders', { method: 'POST', body: '{"a":1}' })).status).toBe(503);
    } finally {
      fresh.behave(undefined);
    }
  });

  it('moves 0 → 25 → 50 → 100 → 0 under load through export --watch and nginx reloads, with no failed request', async () => {
    setWeightEverywhere(0);
    await settled(0);
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const bad: string[] = [];
    const checking =
      (name: string): Behaviour =>
      (req, res) => {
        if (req.url === '/health/ready') return void res.end('ok');
        let echo = '';
        if (req.method === 'POST') {
          const { payload, sum } = JSON.parse(req.body) as { payload: string; sum: string };
          if (sha(payload) !== sum) bad.push(`${name}: bad sum`);
          echo = sum;
        }
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ upstream: name, echo }));
      };
    old.behave(checking('monolith'));
    fresh.behave(checking('orders'));
    // The export keeps nginx current on its own, as it would beside a proxy whose admin API or canary moves weights.
    const watcher = spawn(process.execPath, ['proxy/src/main.ts', 'export', 'nginx', '--config', configPath, '--out', nginx.confPath, '--listen', new URL(nginx.url).host, '--watch', '--reload', nginx.reloadCommand], { stdio: ['ignore', 'ignore', 'pipe'] });
    let watchLog = '';
    watcher.stderr!.on('data', (c) => (watchLog += c));
    try {
      await waitFor(() => watchLog.includes('wrote'), 'the first export', 20_000);
      const tokens = Array.from({ length: 100 }, (_, i) => tokenFor(`load-${i}`));
      let n = 0;
      let resolveDone: (r: autocannon.Result) => void = () => undefined;
      const finished = new Promise<autocannon.Result>((resolve) => (resolveDone = resolve));
      const run = autocannon({
        url: nginx.url,
        connections: 12,
        duration: 120,
        requests: [
          {
            method: 'POST',
            path: '/api/v1/orders',
            setupRequest: (req: autocannon.Request) => {
              const payload = `${n++}:${'x'.repeat(n % 20_000)}`;
              return { ...req, headers: { 'content-type': 'application/json', authorization: tokens[n % tokens.length]! }, body: JSON.stringify({ payload, sum: sha(payload) }) };
            },
          },
          { method: 'GET', path: '/api/v1/orders/1', setupRequest: (req: autocannon.Request) => ({ ...req, headers: { authorization: tokens[n++ % tokens.length]! } }) },
        ],
      }, (err, result) => {
        if (err) throw err;
        resolveDone(result);
      });
      const counts = () => ({ old: old.seen.length, fresh: fresh.seen.length });
      await waitFor(() => counts().old > 300, 'load to reach the monolith', 30_000);
      const exports = () => watchLog.split('wrote').length - 1;
      for (const weight of [25, 50, 100, 0]) {
        // Each weight must reach nginx before the next is written: the watcher polls, so two writes
        // within one poll would be exported once, and traffic from the previous weight could satisfy
        // this weight's check on its own.
        const exported = exports();
        writeConfig(configPath, setWeight(readRawConfig(configPath), 'orders', weight));
        await waitFor(() => exports() > exported, `the export of weight ${weight}`, 60_000);
        const before = counts();
        await waitFor(() => {
          const now = counts();
          return (weight === 0 || now.fresh - before.fresh > 300) && (weight === 100 || now.old - before.old > 300);
        }, `traffic at weight ${weight}`, 60_000);
      }
      run.stop();
      const result = await finished;
      const failures = { errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, resets: result.resets, total: result.requests.total };
      const diagnosis = `${watchLog}\nstatus codes: ${JSON.stringify(result.statusCodeStats)}\nnginx error log:\n${nginxErrors(nginx)}`;
      expect(failures, diagnosis).toMatchObject({ errors: 0, timeouts: 0, non2xx: 0, resets: 0 });
      expect(result.requests.total).toBeGreaterThan(1500);
      expect(bad).toEqual([]);
      expect(exports()).toBeGreaterThanOrEqual(5);
    } finally {
      watcher.kill('SIGTERM');
      old.behave(undefined);
      fresh.behave(undefined);
    }
  }, 240_000);
});
