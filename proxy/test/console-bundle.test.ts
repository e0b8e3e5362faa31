// The proxy as its image runs it — the esbuild bundle alone in a folder, no source tree beside it —
// still serves the migration console: its page and scripts travel with the bundle.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { bundleDeployable } from '../../scripts/extract-bundle.ts';
import { freePort, startTs, waitReady } from '../../test/support/processes.ts';
import { SECRET, request } from './helpers.ts';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'console-bundle-'));
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops) await stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the console in the proxy’s bundle', () => {
  it('is served by the bundled proxy from the files beside it', async () => {
    const bundle = await bundleDeployable({ root, kind: 'proxy', outDir: join(dir, 'out') });
    for (const [path, content] of bundle.files) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
    }
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ pools: { monolith: { instances: ['http://127.0.0.1:1'] } } }));
    const [port, internal] = [await freePort(), await freePort()];
    const proxy = startTs(join(dir, 'out/dist/proxy.mjs'), { PROXY_PORT: String(port), PROXY_INTERNAL_PORT: String(internal), PROXY_CONFIG: config, JWT_SECRET: SECRET, DATA_DIR: dir, LOG_LEVEL: 'warn', CONSOLE_ASSETS_DIR: '' });
    stops.push(async () => {
      proxy.proc.kill('SIGTERM');
      await proxy.exited;
    });
    await waitReady(`http://127.0.0.1:${port}`, proxy);
    const page = await request(`http://127.0.0.1:${internal}`, '/_proxy/console');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Migration console</title>');
    for (const asset of ['console.js', 'render.js', 'console.css']) expect((await request(`http://127.0.0.1:${internal}`, `/_proxy/console/${asset}`)).status, asset).toBe(200);
  }, 120_000);
});
