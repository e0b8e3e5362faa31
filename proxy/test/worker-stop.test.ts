// How a proxy worker's stop ends. Ctrl-C in a terminal sends SIGINT to the primary and every
// worker at once: each worker drains and ends in 0, as on the primary's SIGTERM. A stop that hangs
// is cut short: here the worker's Redis stops answering (a relay between them that goes silent),
// so the QUIT of its close never returns; the worker gives up after the drain's grace and 5 s
// more, says so, and ends in 1, rather than wait for a SIGKILL. The primary logs each worker's end.
import { createConnection, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { SECRET, request, startUpstream, tempConfig, twoSides, type Upstream } from './helpers.ts';
import { spawnProxy, type ProxyProcess } from './proxy-process.ts';

const REDIS_URL = new URL(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');

/** A TCP relay to the test Redis that can go silent: it keeps the connections and forwards nothing more. */
async function silenceableRelay() {
  const sockets: Socket[] = [];
  let silent = false;
  const server = createServer((client) => {
    const upstream = createConnection(Number(REDIS_URL.port || 6379), REDIS_URL.hostname);
    sockets.push(client, upstream);
    client.on('data', (d) => silent || upstream.write(d));
    upstream.on('data', (d) => silent || client.write(d));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    silence: () => (silent = true),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let relay: Awaited<ReturnType<typeof silenceableRelay>> | undefined;
let old: Upstream | undefined;
let fresh: Upstream | undefined;
let proxy: ProxyProcess | undefined;
afterAll(async () => {
  if (proxy && proxy.child.exitCode === null && proxy.child.signalCode === null) proxy.child.kill('SIGKILL');
  await relay?.close();
  await old?.close();
  await fresh?.close();
});

/** What the primary logged of each worker's end during its stop. */
const workerEnds = (out: string) => out.split('\n').filter((l) => l.includes('"msg":"worker stopped')).map((l) => JSON.parse(l) as { code: number | null; signal: string | null });

describe('a proxy worker, stopped from a terminal', () => {
  it('stops on the SIGINT of Ctrl-C and ends in 0', async () => {
    old = await startUpstream('monolith');
    fresh = await startUpstream('orders');
    proxy = await spawnProxy({ env: { PROXY_CONFIG: tempConfig(twoSides(old, fresh)), PROXY_WORKERS: '1', JWT_SECRET: SECRET, LOG_LEVEL: 'info' } });
    expect((await request(proxy.base, '/api/v1/orders/1')).status).toBe(200);
    const listening = proxy.output().split('\n').find((l) => l.includes('proxy listening'));
    if (!listening) throw new Error(`no 'proxy listening' line in:\n${proxy.output()}`);
    const workerPid = (JSON.parse(listening) as { pid: number }).pid;
    expect(workerPid).not.toBe(proxy.child.pid);

    // As a terminal does: the signal reaches every process of the group.
    const exited = new Promise<number | null>((resolve) => proxy!.child.once('exit', (code) => resolve(code)));
    process.kill(workerPid, 'SIGINT');
    proxy.child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(workerEnds(proxy.output()), proxy.output()).toEqual([expect.objectContaining({ code: 0, signal: null })]);
    await old.close();
    await fresh.close();
    old = fresh = undefined;
  }, 120_000);
});

describe('a proxy worker whose stop hangs', () => {
  it('gives up after its grace, says so, and ends in 1', async () => {
    relay = await silenceableRelay();
    old = await startUpstream('monolith');
    fresh = await startUpstream('orders');
    proxy = await spawnProxy({
      env: { PROXY_CONFIG: tempConfig(twoSides(old, fresh)), PROXY_WORKERS: '1', JWT_SECRET: SECRET, LOG_LEVEL: 'info', REDIS_URL: relay.url, PROXY_REDIS_PREFIX: `worker-stop-${randomBytes(4).toString('hex')}:` },
    });
    expect((await request(proxy.base, '/api/v1/orders/1')).status).toBe(200);

    relay.silence();
    await proxy.stop();
    const out = proxy.output();
    expect(out).toContain('"msg":"stop took too long; exiting"');
    expect(workerEnds(out), out).toEqual([expect.objectContaining({ code: 1, signal: null })]);
  }, 120_000);
});
