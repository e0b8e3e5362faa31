// The embedded default (SQLite, in-process bus) starts without the drivers it does not use: pg,
// BullMQ and ioredis load only when DATABASE_URL or BUS=bullmq asks for them (open-store.ts, the
// bus's transport), which keeps `npm start` fast and small. A preload reports every driver the
// process resolves, through start-up and an order's whole saga.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RUNTIME_FLAGS, SOURCE_PRELOAD } from '../../scripts/deploy/runtime-flags.ts';
import { mintToken } from '../../src/platform/auth/jwt.ts';
import { freePair, repoRoot, waitReady, type Child } from '../support/processes.ts';
import { TEST_JWT_SECRET, testKeysEnv } from '../support/keys.ts';
import { orderToItsEnd } from '../support/http.ts';

const dirs: string[] = [];
const children: Child[] = [];
afterEach(() => {
  children.splice(0).forEach((c) => c.proc.kill('SIGKILL'));
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

describe('the embedded default', () => {
  it('starts, and takes an order to its end, without loading pg, BullMQ or ioredis', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'embedded-start-'));
    dirs.push(dataDir);
    const port = await freePair();
    const env: Record<string, string | undefined> = { ...process.env, ...testKeysEnv, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, SEED: 'true', LOG_LEVEL: 'warn' };
    for (const name of ['DATABASE_URL', 'BUS', 'REDIS_URL', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_TRACES_EXPORTER']) delete env[name];
    const preload = resolve(repoRoot, 'test/fixtures/report-loaded-drivers.mjs');
    const proc = spawn(process.execPath, [...RUNTIME_FLAGS, ...SOURCE_PRELOAD, '--import', preload, 'src/main.ts'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
    children.push({ proc, output: () => out, exited });

    const base = `http://127.0.0.1:${port}`;
    await waitReady(base, children[0]);
    expect(await orderToItsEnd(base, await mintToken({ sub: 'embedded-start', secret: TEST_JWT_SECRET }))).toBe('CONFIRMED');
    expect(out).not.toMatch(/\[driver loaded\]/);
  });

  it('the preload does report a driver that loads', async () => {
    // The check above means something only if the preload sees a driver when one loads.
    const preload = resolve(repoRoot, 'test/fixtures/report-loaded-drivers.mjs');
    const proc = spawn(process.execPath, ['--import', preload, '--input-type=module', '-e', "await import('pg')"], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((r) => proc.once('exit', r));
    expect(code).toBe(0);
    expect(out).toMatch(/\[driver loaded\] pg/);
  });
});
