// How an extracted service starts, as real processes: without PORT it listens at its address in
// the topology (so it runs beside `npm start` without a collision), and in production it asks for
// SERVICE_JWT_SECRET only when it really calls or serves a contract across processes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePair, freePort, startTs, waitReady, type Child } from '../support/processes.ts';
import { redisUrl } from '../support/databases.ts';
import { busPrefix } from '../support/redis.ts';
import { TEST_JWT_SECRET, testKeysEnv } from '../support/keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'service-start-'));
const children: Child[] = [];
const bus = busPrefix();
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.proc.kill('SIGKILL');
    await c.exited;
  }
});
afterAll(async () => {
  await bus.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function start(entry: string, env: Record<string, string>, args: string[] = []): Child {
  const child = startTs(entry, { BUS_PREFIX: bus.prefix, REDIS_URL: redisUrl(), ...env }, args);
  children.push(child);
  return child;
}


describe('a service started without PORT', () => {
  it('listens at its address in the topology, beside a monolith started as npm start does', async () => {
    const data = mkdtempSync(join(dir, 'data-'));
    const monolithPort = await freePair();
    const servicePort = await freePair();
    const topology = join(dir, 'topology.json');
    writeFileSync(
      topology,
      JSON.stringify({ monolith: { urls: [`http://127.0.0.1:${monolithPort + 1000}`] }, modules: { payments: { state: 'migrating', urls: [`http://127.0.0.1:${servicePort + 1000}`] } } }),
    );
    const common = { ...testKeysEnv, DATA_DIR: data, TOPOLOGY_FILE: topology, BUS: 'bullmq', SEED: 'false' };
    const monolith = start('src/main.ts', { ...common, PORT: String(monolithPort) });
    await waitReady(`http://127.0.0.1:${monolithPort}`, monolith);
    // As the README has it: `npm run service -- payments`, no PORT.
    const service = start('src/service.ts', common, ['payments']);
    await waitReady(`http://127.0.0.1:${servicePort}`, service);
    expect((await fetch(`http://127.0.0.1:${servicePort + 1000}/health/ready`)).status).toBe(200);
    expect(service.output()).toMatch(new RegExp(`"port":${servicePort},"internalPort":${servicePort + 1000}`));
    expect(service.output()).not.toMatch(/EADDRINUSE/);
    expect((await fetch(`http://127.0.0.1:${monolithPort}/health/ready`)).status).toBe(200);
  });
});

describe('a deployable in production asks only for the keys it uses', () => {
  const production = async () => ({ NODE_ENV: 'production', JWT_SECRET: TEST_JWT_SECRET, HOST: '127.0.0.1', DATA_DIR: mkdtempSync(join(dir, 'prod-')), PORT: String(await freePort()), INTERNAL_PORT: String(await freePort()), SEED: 'false' });

  it('starts the notifications service without SERVICE_JWT_SECRET: it calls no contract and no other deployable calls its own', async () => {
    const env = await production();
    const child = start('src/service.ts', env, ['notifications']);
    await waitReady(`http://127.0.0.1:${env.PORT}`, child);
    expect(child.output()).not.toMatch(/SERVICE_JWT_SECRET/);
  });

  it('stops the payments service, which the orders module calls from elsewhere, naming SERVICE_JWT_SECRET, with exit 78 and no stack trace', async () => {
    const child = start('src/service.ts', await production(), ['payments']);
    const { code } = await child.exited;
    expect(code).toBe(78);
    expect(child.output()).toMatch(/Invalid configuration:\n {2}- orders \(in another deployable\) call\(s\) payments, which runs here: set SERVICE_JWT_SECRET/);
    expect(child.output()).not.toMatch(/\n\s+at /);
  });
});
