// npm start runs its entry from a cached build (scripts/start.ts, scripts/start-cache.ts): made
// once, reused while its sources are unchanged, made again when one changes, and skipped when
// tracing is exported. The cache here is a temp folder (START_CACHE_DIR), so the checkout's own
// cache is left alone.
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isFresh, stamps, stampsAfterBuild, type StartBuildRecord } from '../../scripts/start-cache.ts';
import { mintToken } from '../../src/platform/auth/jwt.ts';
import { freePort, startTs, waitReady, type Child } from '../support/processes.ts';
import { TEST_JWT_SECRET, testKeysEnv } from '../support/keys.ts';
import { orderToItsEnd } from '../support/http.ts';

const dir = mkdtempSync(join(tmpdir(), 'start-cache-'));
const cache = join(dir, 'cache');
const children: Child[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.proc.kill('SIGKILL');
    await c.exited;
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a build record', () => {
  const root = mkdtempSync(join(dir, 'root-'));
  writeFileSync(join(root, 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, 'b.ts'), 'export const b = 2;\n');
  const record = (): StartBuildRecord => ({ entry: 'a.ts', build: 'x', node: process.version, inputs: stamps(root, ['a.ts', 'b.ts']) });

  it('is fresh while every input keeps its mtime and size', () => {
    expect(isFresh(root, record())).toBe(true);
  });

  it('is stale when an input changes or goes, or Node is another version', () => {
    const r = record();
    writeFileSync(join(root, 'b.ts'), 'export const b = 22;\n');
    expect(isFresh(root, r)).toBe(false);
    const r2 = record();
    utimesSync(join(root, 'a.ts'), new Date(), new Date(Date.now() + 5_000));
    expect(isFresh(root, r2)).toBe(false);
    const r3 = record();
    rmSync(join(root, 'b.ts'));
    expect(isFresh(root, r3)).toBe(false);
    const r4 = record();
    expect(isFresh(root, { ...r4, node: 'v0.0.0' })).toBe(false);
    expect(isFresh(root, r4)).toBe(true);
  });

  it('is stale when an input changed while the build was being made', () => {
    writeFileSync(join(root, 'c.ts'), 'export const c = 3;\n');
    const built = { ...record(), inputs: stampsAfterBuild(root, ['c.ts'], Date.now() - 60_000) };
    expect(built.inputs['c.ts']![0]).toBe(-1);
    expect(isFresh(root, built)).toBe(false);
    const quiet = { ...record(), inputs: stampsAfterBuild(root, ['c.ts'], Date.now() + 60_000) };
    expect(isFresh(root, quiet)).toBe(true);
  });

  it('is stale when a lockfile it lacked appears', () => {
    const r = record();
    writeFileSync(join(root, 'package-lock.json'), '{}\n');
    expect(isFresh(root, r)).toBe(false);
  });
});

describe('npm start through its cached build', () => {
  const data = mkdtempSync(join(dir, 'data-'));
  const recordOf = (): StartBuildRecord => JSON.parse(readFileSync(join(cache, 'src-main-ts.json'), 'utf8')) as StartBuildRecord;
  const builds = () => readdirSync(cache).filter((n) => n.startsWith('src-main-ts-')).sort();

  async function start(env: Record<string, string> = {}): Promise<{ child: Child; base: string }> {
    const port = await freePort();
    const child = startTs('scripts/start.ts', { ...testKeysEnv, START_CACHE_DIR: cache, DATA_DIR: data, HOST: '127.0.0.1', PORT: String(port), INTERNAL_PORT: String(await freePort()), SEED: 'true', BUS: 'inprocess', DATABASE_URL: '', ...env }, ['src/main.ts']);
    children.push(child);
    const base = `http://127.0.0.1:${port}`;
    await waitReady(base, child);
    return { child, base };
  }
  async function stop(child: Child): Promise<void> {
    child.proc.kill('SIGTERM');
    await child.exited;
  }
  /** The start-up hooks the process logged; read after it stopped, as its log lines are written in batches. */
  const hooks = (child: Child): string[] => {
    const line = child.output().split('\n').find((l) => l.includes('"msg":"starting"'));
    if (!line) throw new Error(`no start line in:\n${child.output()}`);
    return (JSON.parse(line) as { hooks: string[] }).hooks;
  };

  it('builds on the first start and serves an order to its end from the build', async () => {
    const { child, base } = await start();
    expect(builds()).toEqual([recordOf().build]);
    expect(await orderToItsEnd(base, await mintToken({ sub: 'start-cache', secret: TEST_JWT_SECRET }))).toBe('CONFIRMED');
    await stop(child);
    expect(hooks(child)).toContain('cached-build');
  });

  it('reuses the build while its sources are unchanged, and builds again when one changes', async () => {
    const first = recordOf().build;
    const again = await start();
    await stop(again.child);
    expect(hooks(again.child)).toContain('cached-build');
    expect(recordOf().build).toBe(first);
    expect(builds()).toEqual([first]);

    // As if src/main.ts had been saved since: its recorded mtime no longer matches.
    const r = recordOf();
    r.inputs['src/main.ts']![0] -= 1_000;
    writeFileSync(join(cache, 'src-main-ts.json'), JSON.stringify(r));
    const rebuilt = await start();
    await stop(rebuilt.child);
    expect(hooks(rebuilt.child)).toContain('cached-build');
    expect(recordOf().build).not.toBe(first);
    expect(builds()).toHaveLength(2);
  });

  it('runs from source when tracing is exported, so the instrumentations can patch what loads', async () => {
    const before = recordOf().build;
    const traced = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}` });
    await stop(traced.child);
    expect(hooks(traced.child)).not.toContain('cached-build');
    expect(hooks(traced.child)).toContain('opentelemetry');
    expect(recordOf().build).toBe(before);
  });

  it('runs from source, saying why, when the build cannot be made', async () => {
    const blocked = join(dir, 'a-file');
    writeFileSync(blocked, 'not a folder\n');
    const { child } = await start({ START_CACHE_DIR: join(blocked, 'cache') });
    await stop(child);
    expect(child.output()).toMatch(/npm start: could not build src\/main\.ts \(.*ENOTDIR.*\); running it from source/);
    expect(hooks(child)).not.toContain('cached-build');
  });

  it('hands a service its module as the argument after the entry', async () => {
    const port = await freePort();
    const child = startTs('scripts/start.ts', { ...testKeysEnv, START_CACHE_DIR: cache, DATA_DIR: mkdtempSync(join(dir, 'svc-')), HOST: '127.0.0.1', PORT: String(port), INTERNAL_PORT: String(await freePort()), SEED: 'false', NODE_ENV: 'production', JWT_SECRET: TEST_JWT_SECRET }, ['src/service.ts', 'notifications']);
    children.push(child);
    await waitReady(`http://127.0.0.1:${port}`, child);
    const ready = (await (await fetch(`http://127.0.0.1:${port}/health/ready`)).json()) as { checks: Record<string, string> };
    expect(Object.keys(ready.checks).filter((c) => c.startsWith('store:'))).toEqual(['store:notifications']);
    await stop(child);
    expect(hooks(child)).toContain('cached-build');
    expect(readdirSync(cache).some((n) => n.startsWith('src-service-ts-'))).toBe(true);
  });
});

describe('the launcher', () => {
  it('names its usage without an entry', async () => {
    const child = startTs('scripts/start.ts', { START_CACHE_DIR: cache });
    children.push(child);
    expect((await child.exited).code).toBe(64);
    expect(child.output()).toMatch(/usage: node scripts\/start\.ts <entry/);
  });
});

