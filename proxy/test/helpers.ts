// Test kit: real node:http upstreams on 127.0.0.1, a proxy on a random port over a temp config file,
// polling with a deadline (never a sleep), and tokens signed like the app's.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import { startProxy, type ProxyOptions, type RunningProxy } from '../src/proxy-server.ts';
import type { ProxyConfigInput } from '../src/config-schema.ts';

export const SECRET = 'test-secret-0123456789abcdef0123456789';

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Behaviour = (req: Seen, res: http.ServerResponse) => void;

export interface Upstream {
  name: string;
  port: number;
  url: string;
  seen: Seen[];
  /** Replace how it answers; by default JSON `{ upstream, method, url, body }`. */
  behave(b: Behaviour | undefined): void;
  close(): Promise<void>;
  server: http.Server;
}

export const echo =
  (name: string): Behaviour =>
  (req, res) => {
    if (req.url === '/health/ready') {
      res.end('ok');
      return;
    }
    const body = JSON.stringify({ upstream: name, method: req.method, url: req.url, body: req.body });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  };

export async function startUpstream(name: string, port = 0): Promise<Upstream> {
  let behaviour: Behaviour | undefined;
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      if (s.url !== '/health/ready') seen.push(s);
      (behaviour ?? echo(name))(s, res);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    name,
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    seen,
    server,
    behave: (b) => {
      behaviour = b;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function tempConfig(config: ProxyConfigInput): string {
  const dir = mkdtempSync(join(tmpdir(), 'proxy-test-'));
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

export async function proxyWith(config: ProxyConfigInput, extra: Partial<ProxyOptions> = {}): Promise<RunningProxy & { configPath: string }> {
  const configPath = extra.configPath ?? tempConfig(config);
  const proxy = await startProxy({
    configPath,
    port: 0,
    host: '127.0.0.1',
    tokens: { secret: SECRET },
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    ...extra,
  });
  return Object.assign(proxy, { configPath });
}

export async function token(sub: string, scope = ''): Promise<string> {
  return new SignJWT({ scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
}

export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A keep-alive client so tests exercise reused connections the way real clients do. */
export const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 32 });

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

export interface RequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  agent?: http.Agent | false;
  /** Gives up (rejects) when no answer has come by then. */
  timeoutMs?: number;
}

export function request(base: string, path: string, init: RequestInit = {}): Promise<Reply> {
  return send(new URL(path, base), {}, init);
}

/** Sends `path` exactly as written (no URL normalisation of `//`, `/./` or `..`). */
export function requestVerbatim(base: string, path: string, init: RequestInit = {}): Promise<Reply> {
  const { hostname, port } = new URL(base);
  return send(undefined, { host: hostname, port, path }, init);
}

function send(url: URL | undefined, where: http.RequestOptions, init: RequestInit): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const options = { ...where, method: init.method ?? 'GET', headers: init.headers, agent: init.agent ?? keepAlive };
    const onResponse = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
        });
        res.on('error', reject);
    };
    const req = url ? http.request(url, options, onResponse) : http.request(options, onResponse);
    req.on('error', reject);
    if (init.timeoutMs) req.setTimeout(init.timeoutMs, () => req.destroy(new Error(`no answer within ${init.timeoutMs} ms`)));
    req.end(init.body);
  });
}

export function twoSides(old: Upstream, fresh: Upstream, route: Record<string, unknown> = {}): ProxyConfigInput {
  return {
    pools: {
      monolith: { instances: [old.url], healthCheck: { intervalMs: 100 } },
      orders: { instances: [fresh.url], healthCheck: { intervalMs: 100 } },
    },
    routes: [{ name: 'orders', prefix: '/api/v1/orders', old: 'monolith', new: 'orders', weight: 0, ...route }],
  };
}

export interface TwoSides {
  old: Upstream;
  fresh: Upstream;
  proxy: RunningProxy & { configPath: string };
}

/** The usual test bench: two upstreams and a proxy splitting /api/v1/orders between them (twoSides). */
export async function startTwoSides(route: Record<string, unknown> = {}, extra: Partial<ProxyOptions> = {}): Promise<TwoSides> {
  const old = await startUpstream('monolith');
  const fresh = await startUpstream('orders');
  const proxy = await proxyWith(twoSides(old, fresh, route), extra);
  return { old, fresh, proxy };
}

export async function stopTwoSides(s: Partial<TwoSides>): Promise<void> {
  await s.proxy?.close();
  await s.old?.close();
  await s.fresh?.close();
}
