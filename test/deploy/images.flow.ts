// The split system as images, for real (npm run test:images; needs podman): a module extracted
// with the real command into a deploy folder outside the repository, the monolith's, the proxy's
// and the payments service's images built from their Dockerfiles, each run as its non-root user on
// the host network, Redis for the bus and one SQLite volume the monolith and the service share.
// Then flows 2 and 3 end to end: an order through the proxy, traffic shifted 0 → 50 → 100 under
// load with no failed request, --finish, the service stopped (clients get 503 problems, not 404s),
// and --undo bringing the module home.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePair, repoRoot } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { redisUrl } from '../support/databases.ts';
import { busPrefix } from '../support/redis.ts';
import { TEST_JWT_SECRET, testKeysEnv } from '../support/keys.ts';
import { mintToken } from '../../src/platform/auth/jwt.ts';
import { readRawConfig, setWeight, writeConfig } from '../../proxy/src/index.ts';
import { build, podman, run, type Container } from './podman.ts';

const exec = promisify(execFile);
const project = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
const image = (name: string) => `localhost/${project.name}/${name}:${project.version}`;
const tag = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'images-'));
const paths = { topology: join(dir, 'topology.json'), proxyDir: join(dir, 'proxy'), proxy: join(dir, 'proxy', 'config.json'), deploy: join(dir, 'deploy') };
const bus = busPrefix();
const volume = `strangler-test-data-${tag}`;
const containers: Container[] = [];
let ports: { monolith: number; service: number; proxy: number };


async function extract(...args: string[]): Promise<string> {
  const { stdout } = await exec(process.execPath, [join(repoRoot, 'scripts/extract.ts'), ...args, '--topology', paths.topology, '--proxy-config', paths.proxy, '--deploy-dir', paths.deploy], { cwd: repoRoot });
  return stdout;
}

const appEnv = () => ({ ...testKeysEnv, BUS: 'bullmq', REDIS_URL: redisUrl(), BUS_PREFIX: bus.prefix, TOPOLOGY_FILE: '/config/topology.json', LOG_LEVEL: 'info' });

async function startMonolith(): Promise<Container> {
  const c = await run({
    name: `strangler-test-monolith-${tag}`,
    image: image('monolith'),
    env: { ...appEnv(), PORT: String(ports.monolith), INTERNAL_PORT: String(ports.monolith + 1000) },
    volumes: [`${volume}:/data`, `${paths.topology}:/config/topology.json:ro`],
  });
  containers.push(c);
  await ready(ports.monolith, c);
  return c;
}

async function startService(): Promise<Container> {
  const c = await run({
    name: `strangler-test-payments-${tag}`,
    image: image('payments-service'),
    env: { ...appEnv(), PORT: String(ports.service), INTERNAL_PORT: String(ports.service + 1000) },
    volumes: [`${volume}:/data`, `${paths.topology}:/config/topology.json:ro`],
  });
  containers.push(c);
  await ready(ports.service, c);
  return c;
}

async function ready(port: number, c: Container): Promise<void> {
  await eventually(
    async () => {
      const state = await podman('inspect', '-f', '{{.State.Status}}', c.name);
      if (state === 'exited') throw new Error(`${c.name} exited:\n${await c.logs()}`);
      return (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.status === 200;
    },
    `${c.name} ready on ${port}`,
    120_000,
    200,
  ).catch(async (err: Error) => {
    // Say why: what the container wrote, and what its readiness probe answers.
    const probe = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.text(), (e: Error) => e.message);
    throw new Error(`${err.message}\nreadiness answer: ${probe}\n${c.name} logs:\n${await c.logs()}`);
  });
}

const proxyUrl = () => `http://127.0.0.1:${ports.proxy}`;

async function call(path: string, user: string, init: RequestInit = {}): Promise<Response> {
  const token = await mintToken({ sub: user, secret: TEST_JWT_SECRET });
  return fetch(`${proxyUrl()}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
}

async function placeOrder(user: string): Promise<string> {
  const r = await call('/api/v1/orders', user, { method: 'POST', headers: { 'idempotency-key': randomUUID() }, body: JSON.stringify({ items: [{ sku: 'MUG-STONE', quantity: 1 }] }) });
  expect(r.status, await r.clone().text()).toBe(202);
  const { id } = (await r.json()) as { id: string };
  let status = '';
  await eventually(async () => {
    status = ((await (await call(`/api/v1/orders/${id}`, user)).json()) as { status: string }).status;
    return status !== 'PENDING';
  }, `order ${id} settled`, 60_000, 100);
  return status;
}

/** Requests to the accounts route that a deployable has answered, from its own /metrics (internal port). */
async function answered(publicPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${publicPort + 1000}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('http_requests_total{') && l.includes('/api/v1/accounts'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

const servedByService = () => answered(ports.service);
const servedByMonolith = () => answered(ports.monolith);

function setRouteWeight(weight: number): void {
  writeConfig(paths.proxy, setWeight(readRawConfig(paths.proxy), 'payments', weight));
}

beforeAll(async () => {
  ports = { monolith: await freePair(), service: await freePair(), proxy: await freePair() };
  // The topology and route table as a team has them, with this run's free ports.
  writeFileSync(paths.topology, JSON.stringify({ monolith: { urls: [`http://127.0.0.1:${ports.monolith + 1000}`] }, modules: { payments: { state: 'local', urls: [`http://127.0.0.1:${ports.service + 1000}`] } } }, null, 2));
  mkdirSync(paths.proxyDir);
  writeFileSync(paths.proxy, JSON.stringify({ pools: { monolith: { instances: [`http://127.0.0.1:${ports.monolith}`], healthCheck: { intervalMs: 500 } } }, defaultPool: 'monolith', routes: [] }, null, 2));
  // The proxy runs as uid 1000 and saves admin changes beside its config.
  chmodSync(paths.proxyDir, 0o777);
  const out = await extract('payments');
  expect(out).toMatch(/payments local → migrating/);
  for (const [dockerfile, name] of [
    [join(paths.deploy, 'monolith/Dockerfile'), 'monolith'],
    [join(paths.deploy, 'payments/Dockerfile'), 'payments-service'],
    [join(paths.deploy, 'proxy/Dockerfile'), 'proxy'],
  ] as const) {
    await build(dockerfile, image(name));
  }
  await podman('volume', 'create', volume);
}, 1_200_000);

afterAll(async () => {
  for (const c of containers) await c.remove();
  await podman('volume', 'rm', '-f', volume).catch(() => '');
  await bus.cleanup();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('each image', () => {
  it.each(['monolith', 'payments-service', 'proxy'])('%s runs as a non-root user, in production, with a health check and only the packages its bundle cannot hold', async (name) => {
    const [inspected] = JSON.parse(await podman('image', 'inspect', image(name))) as { Config: { User: string; Env: string[]; Volumes?: Record<string, unknown> }; Healthcheck?: { Test: string[] } }[];
    const config = { ...inspected!.Config, Healthcheck: inspected!.Healthcheck };
    expect(config.User).toBe('1000:1000');
    expect(config.Env).toEqual(expect.arrayContaining(['NODE_ENV=production', 'HOST=0.0.0.0']));
    expect(config.Healthcheck?.Test.join(' ')).toMatch(/\/health\/ready/);
    expect(await podman('run', '--rm', '--network', 'host', '--entrypoint', 'id', image(name), '-u')).toBe('1000');
    const packages = await podman('run', '--rm', '--network', 'host', '--entrypoint', 'sh', image(name), '-c', 'ls node_modules 2>/dev/null || true');
    if (name === 'proxy') expect(packages).toBe('');
    else {
      expect(packages).toBe('better-sqlite3');
      expect(Object.keys(config.Volumes ?? {})).toEqual(['/data']);
      expect(config.Env).toContain('DATA_DIR=/data');
      // The data volume is the runtime user's; the code is root's and read-only to it.
      expect(await podman('run', '--rm', '--network', 'host', '--entrypoint', 'sh', image(name), '-c', 'stat -c %u /data; stat -c %u /app/dist; touch /app/dist/x 2>&1 || echo read-only')).toMatch(/^1000\n0\n[\s\S]*read-only$/);
    }
  });
});

describe('the split system from its images', () => {
  let proxy: Container;

  it('places an order through the proxy’s image, in front of the monolith’s and the payments service’s', async () => {
    await startMonolith();
    await startService();
    proxy = await run({
      name: `strangler-test-proxy-${tag}`,
      image: image('proxy'),
      env: { JWT_SECRET: TEST_JWT_SECRET, PROXY_PORT: String(ports.proxy), PROXY_INTERNAL_PORT: String(ports.proxy + 1000), PROXY_CONFIG: '/config/proxy/config.json', LOG_LEVEL: 'info' },
      volumes: [`${paths.proxyDir}:/config/proxy`],
    });
    containers.push(proxy);
    await ready(ports.proxy, proxy);
    expect(await placeOrder('alice')).toBe('CONFIRMED');
  }, 300_000);

  it('shifts the payments routes 0 → 50 → 100 under load without a failed request, and the service answers its share', async () => {
    const users = Array.from({ length: 16 }, (_, i) => `shopper-${i}`);
    const failures: string[] = [];
    let stop = false;
    let sent = 0;
    const load = (async () => {
      while (!stop) {
        await Promise.all(
          users.map(async (user) => {
            const r = await call('/api/v1/accounts/me', user).catch((err: Error) => ({ status: 0, text: async () => err.message }));
            sent++;
            if (r.status !== 200) failures.push(`${user}: ${r.status} ${(await r.text()).slice(0, 200)}`);
          }),
        );
      }
    })();
    const before = await servedByService();
    await eventually(async () => sent > 50, 'load running', 30_000, 50);
    expect(await servedByService()).toBe(before);
    setRouteWeight(50);
    await eventually(async () => (await servedByService()) > before + 20, 'half of the users on the service', 60_000, 200);
    // Sticky halves: at 50 both sides keep answering their own users.
    const [service50, monolith50] = [await servedByService(), await servedByMonolith()];
    await eventually(async () => (await servedByService()) > service50 + 20 && (await servedByMonolith()) > monolith50 + 20, 'both sides answering at 50', 60_000, 200);
    setRouteWeight(100);
    const atFull = await servedByService();
    await eventually(async () => (await servedByService()) > atFull + users.length * 5, 'every user on the service', 60_000, 200);
    stop = true;
    await load;
    expect(failures).toEqual([]);
    expect(await placeOrder('alice')).toBe('CONFIRMED');
  }, 300_000);

  it('finishes: the monolith restarted without payments calls the service for the saga', async () => {
    const out = await extract('payments', '--finish');
    expect(out).toMatch(/payments migrating → remote/);
    const monolith = containers.find((c) => c.name.includes('monolith'))!;
    await monolith.stop();
    await podman('start', monolith.name);
    await ready(ports.monolith, monolith);
    expect(await monolith.logs()).toMatch(/"remote":\{"payments":\["http:\/\/127\.0\.0\.1:\d+"\]\}/);
    expect(await placeOrder('bob')).toBe('CONFIRMED');
  }, 300_000);

  it('with the service stopped, clients of its routes get 503 problems, not 404s', async () => {
    const service = containers.find((c) => c.name.includes('payments'))!;
    await service.stop();
    await eventually(
      async () => {
        const r = await call('/api/v1/accounts/me', 'carol');
        if (r.status === 200) return false;
        expect(r.status, await r.clone().text()).toBe(503);
        expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
        expect(((await r.json()) as { code?: string }).code).toBeTruthy();
        return true;
      },
      'a 503 problem for the accounts route',
      30_000,
      200,
    );
  }, 120_000);

  it('undoes: the monolith runs payments again, on the store that never moved', async () => {
    const out = await extract('payments', '--undo');
    expect(out).toMatch(/payments remote → local/);
    expect(out).toMatch(/2\. stop the payments service/);
    const monolith = containers.find((c) => c.name.includes('monolith'))!;
    await monolith.stop();
    await podman('start', monolith.name);
    await ready(ports.monolith, monolith);
    await eventually(async () => (await call('/api/v1/accounts/me', 'alice')).status === 200, 'accounts from the monolith', 30_000, 200);
    // alice's two orders were captured while payments moved between deployables: none is lost.
    const account = (await (await call('/api/v1/accounts/me', 'alice')).json()) as { capturedMinor: number; payments: number };
    expect(account.payments).toBe(2);
    expect(account.capturedMinor).toBeGreaterThan(0);
    expect(await placeOrder('alice')).toBe('CONFIRMED');
  }, 300_000);
});
