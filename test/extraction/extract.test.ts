// Flow 2, `npm run extract`, run as the command it is against a temporary copy of the topology,
// the proxy config and the deploy folder: what it checks, what it writes, that every command is
// idempotent, and that the bundle it builds holds no other module's implementation and runs.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Metafile } from 'esbuild';
import { z } from 'zod';
import { repoRoot, freePort, startTs, waitReady, type Child } from '../support/processes.ts';
import { busPrefix } from '../support/redis.ts';
import { redisUrl } from '../support/databases.ts';
import { mintToken } from '../../src/platform/auth/jwt.ts';
import { TEST_JWT_SECRET, testKeysEnv } from '../support/keys.ts';
import { readTopologyFile } from '../../src/platform/kernel/topology.ts';
import { defineManifest } from '../../src/platform/modules/manifest.ts';
import { defineContract, operation } from '../../src/platform/contracts/define-contract.ts';
import { foreignImplementations } from '../../scripts/extract-bundle.ts';
import { runExtract, schemaProblems } from '../../scripts/extract-core.ts';
import { fixtureManifests } from './fixtures.ts';

const run = promisify(execFile);
let dir: string;
let paths: { topology: string; proxy: string; deploy: string };

async function extract(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(repoRoot, 'scripts/extract.ts'), ...args, '--topology', paths.topology, '--proxy-config', paths.proxy, '--deploy-dir', paths.deploy], { cwd: repoRoot });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const proxyConfig = () => JSON.parse(readFileSync(paths.proxy, 'utf8')) as { pools: Record<string, { instances: string[] }>; routes: { name: string; prefix: string; new: string; weight: number }[] };
const state = (module: string) => readTopologyFile(paths.topology).modules[module]?.state ?? 'local';

beforeAll(() => {
  // The deploy folder lives outside the repository, as --deploy-dir allows.
  dir = mkdtempSync(join(tmpdir(), 'extract-'));
  paths = { topology: join(dir, 'topology.json'), proxy: join(dir, 'proxy.json'), deploy: join(dir, 'deploy') };
  cpSync(join(repoRoot, 'topology.json'), paths.topology);
  cpSync(join(repoRoot, 'proxy/config.json'), paths.proxy);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run extract', () => {
  it('refuses an unknown module with a clear message and a non-zero exit', async () => {
    const r = await extract('no-such-module');
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/Unknown module "no-such-module"\. Modules: .*catalog/);
    expect(existsSync(paths.deploy)).toBe(false);
  });

  it('refuses --finish for a module that was never extracted', async () => {
    const r = await extract('catalog', '--finish');
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/not extracted yet/);
    expect(state('catalog')).toBe('local');
  });

  it('checks, marks the module migrating, writes its deployment and bundle, and adds its routes at weight 0', async () => {
    const r = await extract('catalog');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/catalog local → migrating/);
    expect(r.out).toMatch(/Next:\n(.*\n)*.*npm run service -- catalog/);
    expect(state('catalog')).toBe('migrating');
    const home = join(paths.deploy, 'catalog');
    const env = readFileSync(join(home, 'catalog.env'), 'utf8');
    // catalog is the first module: public 3101, internal 4101 (the address the topology records).
    expect(env).toMatch(/^PORT=3101$/m);
    expect(env).toMatch(/^INTERNAL_PORT=4101$/m);
    expect(env).toMatch(/^DATA_DIR=/m);
    expect(env).toMatch(/DATABASE_URL/);
    expect(env).toMatch(/^BUS=bullmq$/m);
    expect(readTopologyFile(paths.topology).modules.catalog!.urls).toEqual(['http://127.0.0.1:4101']);
    // The image builds its own bundle from the repository: nothing is copied from the deploy folder.
    const dockerfile = readFileSync(join(home, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/RUN node scripts\/build-deployable\.ts catalog \/out/);
    expect(dockerfile).toMatch(/CMD \["node", "--max-semi-space-size=8", "dist\/service\.mjs"\]/);
    expect(dockerfile).not.toMatch(/COPY \.\./);
    for (const variant of ['sqlite', 'postgres']) {
      const k8s = readFileSync(join(home, 'kubernetes', variant, 'catalog-service.yaml'), 'utf8');
      for (const probe of ['startupProbe:[\\s\\S]*?/health/started', 'livenessProbe:[\\s\\S]*?/health/live', 'readinessProbe:[\\s\\S]*?/health/ready']) expect(k8s).toMatch(new RegExp(probe));
    }
    const proxy = proxyConfig();
    expect(proxy.routes).toContainEqual(expect.objectContaining({ name: 'catalog', prefix: '/api/v1/products', new: 'catalog', weight: 0 }));
    // Proxy pools name public listeners; the topology names internal ones.
    expect(proxy.pools.catalog!.instances).toEqual(['http://127.0.0.1:3101']);
    const deployed = JSON.parse(readFileSync(join(paths.deploy, 'system/proxy/config.json'), 'utf8')) as { pools: Record<string, { instances: string[] }> };
    expect(deployed.pools.catalog!.instances).toEqual(['http://catalog-service:3101']);
  });

  it('bundles the platform and the module, and of other modules only their contracts and manifests', () => {
    const meta = JSON.parse(readFileSync(join(paths.deploy, 'catalog/dist/meta.json'), 'utf8')) as Metafile;
    const inputs = Object.keys(meta.inputs);
    expect(inputs).toContain('src/modules/catalog/module.ts');
    expect(inputs).toContain('src/platform/kernel/create-app.ts');
    expect(inputs).toContain('src/platform/remote/remote-binding.ts');
    expect(foreignImplementations(meta, 'catalog')).toEqual([]);
    // The check itself bites: a metafile with another module's implementation is caught.
    expect(foreignImplementations({ inputs: { 'src/modules/orders/module.ts': {} as never, 'src/modules/orders/index.ts': {} as never }, outputs: {} }, 'catalog')).toEqual(['src/modules/orders/module.ts']);
  });

  it('runs a second time without changing anything, says so and exits 0', async () => {
    const bundle = join(paths.deploy, 'catalog/dist/service.mjs');
    const before = statSync(bundle).mtimeMs;
    const proxyBefore = readFileSync(paths.proxy, 'utf8');
    const r = await extract('catalog');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/Nothing changed/);
    expect(r.out).not.toMatch(/✎/);
    expect(statSync(bundle).mtimeMs).toBe(before);
    expect(readFileSync(paths.proxy, 'utf8')).toBe(proxyBefore);
  });

  describe('the bundle, copied elsewhere and started on its own', () => {
    let child: Child | undefined;
    const bus = busPrefix();
    afterAll(async () => {
      child?.proc.kill('SIGKILL');
      if (child) await child.exited;
      await bus.cleanup();
    });

    it('starts through the same bootstrap and hooks as npm run service, and serves the module’s routes, probes, metrics and a credential-guarded contract endpoint', async () => {
      const port = await freePort();
      const internalPort = await freePort();
      const data = mkdtempSync(join(dir, 'data-'));
      // The folder alone, moved: its package.json names what the bundle cannot hold, and that is
      // all it gets (linked from the repository's install, as npm install in the copy would put it).
      const copy = join(dir, 'catalog-copy');
      cpSync(join(paths.deploy, 'catalog'), copy, { recursive: true });
      const runtime = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
      const installed = (name: string) => (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
      expect(runtime.dependencies).toEqual({ 'better-sqlite3': installed('better-sqlite3') });
      mkdirSync(join(copy, 'node_modules'));
      for (const name of Object.keys(runtime.dependencies)) symlinkSync(join(repoRoot, 'node_modules', name), join(copy, 'node_modules', name), 'dir');
      child = startTs(join(copy, 'dist/service.mjs'), {
        ...testKeysEnv,
        PORT: String(port),
        INTERNAL_PORT: String(internalPort),
        DATA_DIR: data,
        BUS: 'bullmq',
        REDIS_URL: redisUrl(),
        BUS_PREFIX: bus.prefix,
        TOPOLOGY_FILE: paths.topology,
        LOG_LEVEL: 'info',
        SEED: 'false',
      });
      const base = `http://127.0.0.1:${port}`;
      const internal = `http://127.0.0.1:${internalPort}`;
      await waitReady(base, child, 120_000);
      // The background WAL checkpointer's worker ships beside the bundle (esbuild does not follow it).
      expect(existsSync(join(copy, 'dist/wal-checkpoint-worker.mjs'))).toBe(true);
      expect(child.output()).not.toMatch(/background checkpoints unavailable/);
      // It started through the same bootstrap as `npm run service`, with the same start-up hooks.
      expect(child.output()).toMatch(/"hooks":\["compile-cache","drizzle-as-commonjs"\].*"msg":"starting"/);
      expect(child.output()).toMatch(/"deployable":"catalog-service"/);
      for (const probe of ['live', 'ready', 'started']) expect((await fetch(`${base}/health/${probe}`)).status).toBe(200);
      expect(await (await fetch(`${internal}/metrics`)).text()).toMatch(/deployable="catalog-service"/);
      // Internals are on the internal listener only: the public port does not know them.
      expect((await fetch(`${base}/metrics`)).status).toBe(404);
      const token = await mintToken({ sub: 'alice', secret: TEST_JWT_SECRET });
      const list = await fetch(`${base}/api/v1/products`, { headers: { authorization: `Bearer ${token}` } });
      expect(list.status).toBe(200);
      const call = (url: string) => fetch(`${url}/internal/contracts/catalog/getProduct`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":{"sku":"TEA-1"}}' });
      const unauthenticated = await call(internal);
      expect(unauthenticated.status).toBe(401);
      expect(unauthenticated.headers.get('content-type')).toContain('application/problem+json');
      expect((await call(base)).status).toBe(404);
    }, 150_000);
  });

  it('--finish marks it remote and sends its routes to the service; a second --finish changes nothing', async () => {
    const r = await extract('catalog', '--finish');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/catalog migrating → remote/);
    expect(state('catalog')).toBe('remote');
    expect(proxyConfig().routes.find((x) => x.name === 'catalog')!.weight).toBe(100);
    const again = await extract('catalog', '--finish');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/Nothing changed/);
  });

  it('--undo brings it back from remote with its routes removed; a second --undo changes nothing', async () => {
    const r = await extract('catalog', '--undo');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/catalog remote → local/);
    // It says what to do now, in order: the monolith takes the module back, then the service stops.
    expect(r.out).toMatch(/1\. restart the monolith[^\n]*runs catalog again/);
    expect(r.out).toMatch(/2\. stop the catalog service[\s\S]*npm run service -- catalog[\s\S]*compose[\s\S]*kubectl delete [^\n]*app\.kubernetes\.io\/name=catalog-service/);
    expect(state('catalog')).toBe('local');
    expect(proxyConfig().routes.some((x) => x.new === 'catalog')).toBe(false);
    expect(proxyConfig().pools.catalog).toBeUndefined();
    const again = await extract('catalog', '--undo');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/Nothing changed/);
  });
});

describe('the checks before a module may leave', () => {
  it('refuses a module with boundary violations, naming them, and writes nothing', async () => {
    const lines: string[] = [];
    const topology = join(dir, 'refused-topology.json');
    const r = await runExtract({
      module: 'warehouse',
      action: 'extract',
      root: repoRoot,
      topologyFile: topology,
      proxyConfig: paths.proxy,
      deployDir: join(dir, 'refused-deploy'),
      manifests: fixtureManifests,
      boundaryFindings: async () => ['✖ module-internals-are-private · importing: src/modules/warehouse/app/x.ts · imported: src/modules/counter/db/schema.ts'],
      bundle: async () => {
        throw new Error('must not bundle a refused module');
      },
      log: (l) => lines.push(l),
    });
    expect(r.exitCode).toBe(1);
    expect(lines.join('\n')).toMatch(/warehouse cannot leave the monolith yet:\n {2}- ✖ module-internals-are-private/);
    expect(existsSync(topology)).toBe(false);
    expect(existsSync(join(dir, 'refused-deploy'))).toBe(false);
  });

  it('names every operation or event without a schema', () => {
    const loose = defineManifest({
      name: 'loose',
      purpose: 'test',
      contract: defineContract({ name: 'loose', operations: { get: operation({ input: z.object({}), output: undefined as unknown as z.ZodType, idempotent: true }) } }),
      publishes: [{ type: 'Happened', version: 1, key: 'Happened.v1', schema: undefined as unknown as z.ZodType }],
      subscribes: [],
      dependsOn: ['ghost'],
      publicPaths: [],
    });
    expect(schemaProblems(loose, [loose])).toEqual(['depends on unknown module ghost', 'loose.get has no output schema', 'event Happened.v1 has no schema']);
    expect(fixtureManifests.flatMap((m) => schemaProblems(m, fixtureManifests))).toEqual([]);
  });
});
