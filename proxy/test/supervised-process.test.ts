// `npm run proxy` as a real process tree, started as a newcomer would, with no key given: it checks
// tokens with the development key generated under DATA_DIR (no key is in the source), says so when
// it listens beyond loopback, survives a request that once killed it, and its primary brings back a
// worker that dies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { developmentKeys } from '../../lib/trust/index.ts';
import { request, startUpstream, tempConfig, waitFor, type Upstream } from './helpers.ts';
import { spawnProxy, type ProxyProcess } from './proxy-process.ts';

// The development key the proxy used to fall back on, a constant in its source.
const FORMER_SOURCE_KEY = 'dev-only-secret-change-me-0123456789abcdef';

let upstream: Upstream;
let proxy: ProxyProcess;
let base: string;
let internal: string;
let dataDir: string;
const output = () => proxy.output();

const sign = (secret: string, scope: string) =>
  new SignJWT({ scope }).setProtectedHeader({ alg: 'HS256' }).setSubject('ops').setIssuedAt().setExpirationTime('10m').sign(new TextEncoder().encode(secret));

beforeAll(async () => {
  upstream = await startUpstream('monolith');
  dataDir = join(mkdtempSync(join(tmpdir(), 'proxy-process-')), 'data');
  proxy = await spawnProxy({
    env: {
      ...Object.fromEntries(['JWT_SECRET', 'JWT_JWKS_URL', 'NODE_ENV', 'HOST', 'PROXY_WORKERS'].map((name) => [name, undefined])),
      DATA_DIR: dataDir,
      // Every address: the warning about development keys must show. Traffic still goes to 127.0.0.1.
      PROXY_HOST: '0.0.0.0',
      PROXY_CONFIG: tempConfig({ pools: { monolith: { instances: [upstream.url] } }, routes: [] }),
      LOG_LEVEL: 'info',
    },
  });
  ({ base, internal } = proxy);
}, 60_000);
afterAll(async () => {
  await proxy?.stop();
  await upstream.close();
});

const admin = async () => ({ authorization: `Bearer ${await sign(developmentKeys(dataDir).jwtSecret, 'admin')}` });
// A connection accepted by the primary just as its worker died can wait forever: ask again instead.
const workerPid = async () => (await request(internal, '/_proxy/state', { headers: await admin(), agent: false, timeoutMs: 3000 })).json<{ pid: number }>().pid;

describe('the proxy process', () => {
  it('checks tokens with the development key generated under DATA_DIR, not a key from its source', async () => {
    const forged = await request(internal, '/_proxy/state', { headers: { authorization: `Bearer ${await sign(FORMER_SOURCE_KEY, 'admin')}` }, agent: false });
    expect(forged.status).toBe(401);
    expect((await request(internal, '/_proxy/state', { headers: await admin(), agent: false })).status).toBe(200);
  });

  it('warns at start that development keys are served on a non-loopback address', () => {
    expect(output()).toContain('development key on a non-loopback address');
  });

  it('answers 400 to an admin path with broken percent-encoding, and the same worker keeps serving', async () => {
    const before = await workerPid();
    const reply = await request(internal, '/_proxy/routes/%E0%A4%A/weight', {
      method: 'PUT',
      headers: { ...(await admin()), 'content-type': 'application/json' },
      body: '{"weight":10}',
      agent: false,
    });
    expect(reply.status).toBe(400);
    expect(reply.json()).toMatchObject({ code: 'MalformedPath', requestId: expect.any(String) });
    expect((await request(base, '/api/v1/anything', { agent: false })).status).toBe(200);
    expect(await workerPid()).toBe(before);
    expect(output()).not.toContain('worker died');
  });

  it('starts another worker when one is killed, says why, and keeps answering', async () => {
    const victim = await workerPid();
    process.kill(victim, 'SIGKILL');
    const replacement = await waitFor(async () => {
      const pid = await workerPid();
      return pid !== victim ? pid : undefined;
    }, 'a new worker to answer', 30_000);
    expect(replacement).not.toBe(victim);
    expect(output()).toMatch(/worker died \(signal SIGKILL\)/);
    expect((await request(base, '/api/v1/anything', { agent: false })).status).toBe(200);
  });
});
