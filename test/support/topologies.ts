// Parity: one end-to-end suite, run against the system in several topologies. Each
// topology is real child processes — the monolith, and one process per extracted module (more
// with `instances`) — on a shared store and, when anything is extracted, the BullMQ bus with a
// prefix of the test's own. Extracted modules' public routes go through the strangler proxy at
// weight 100, so a test always talks to one base URL, as a user would.
//
//   describe.each(topologies)('catalog in %s', (topology) => {
//     const sys = useSystem(topology);                  // boots in beforeAll, stops in afterAll
//     it('...', async () => { const r = await fetch(`${sys().baseUrl}/api/v1/products`) });
//   });
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import pino from 'pino';
import { mintToken } from '../../src/platform/auth/jwt.ts';
import type { ModuleManifest } from '../../src/platform/modules/manifest.ts';
import type { Module } from '../../src/platform/modules/define-module.ts';
import type { TopologyFile } from '../../src/platform/kernel/topology.ts';
import { manifests as systemManifests } from '../../src/manifests.ts';
import { system } from '../../src/composition-root.ts';
import { loadAll } from '../../src/platform/modules/system.ts';
import { TEST_JWT_SECRET, testKeysEnv } from './keys.ts';
import { startProxy, type RunningProxy } from '../../proxy/src/proxy-server.ts';
import { prepareStore, type Engine } from './boot.ts';
import { freePort, startTs, waitReady, type Child } from './processes.ts';
import { busPrefix } from './redis.ts';
import { redisUrl } from './databases.ts';

export interface TopologySpec {
  name: string;
  /** Modules run as services; `all` = every module. Names the system does not have (yet) are skipped. */
  extracted: readonly string[] | 'all';
}

/** The three topologies the parity suite runs in. */
export const topologies: TopologySpec[] = [
  { name: 'all in-process', extracted: [] },
  { name: 'inventory+payments extracted', extracted: ['inventory', 'payments'] },
  { name: 'all extracted', extracted: 'all' },
];

/** How to start the deployables of a system: the real one, or the extraction fixtures. */
export interface Deployables {
  manifests: readonly ModuleManifest[];
  monolith: { entry: string; args: string[] };
  service(module: string): { entry: string; args: string[] };
  load(names: string[]): Promise<Module[]>;
}

export const systemDeployables: Deployables = {
  manifests: systemManifests,
  monolith: { entry: 'src/main.ts', args: [] },
  service: (module) => ({ entry: 'src/service.ts', args: [module] }),
  load: (names) => loadAll(system, names),
};

export interface SystemOptions {
  engine?: Engine;
  /** Instances per extracted module (default 1). */
  instances?: number;
  /** Extra environment for every process. */
  env?: Record<string, string>;
  deployables?: Deployables;
  /** Put the strangler proxy in front (default: when anything is extracted). */
  proxy?: boolean;
  /**
   * `remote` (default): the monolith no longer runs the extracted modules. `migrating`: it runs
   * them too, on the same stores, and the proxy can split their routes between the two sides.
   */
  state?: 'remote' | 'migrating';
  /** The proxy's starting weight for the extracted modules' routes (default 100). */
  weight?: number;
}

export interface RunningSystem {
  readonly topology: TopologySpec;
  /** Where a user goes: the proxy when anything is extracted, else the monolith. */
  readonly baseUrl: string;
  /** The monolith's public listener. */
  readonly monolithUrl: string;
  /** The monolith's internal listener: /metrics, /admin, contract endpoints. */
  readonly monolithInternalUrl: string;
  /** Modules that really run as services in this topology. */
  readonly extracted: readonly string[];
  /** Public listeners of each extracted module's instances (what the proxy routes to). */
  readonly serviceUrls: Readonly<Record<string, string[]>>;
  /** Their internal listeners (what the topology names, and where /metrics is). */
  readonly serviceInternalUrls: Readonly<Record<string, string[]>>;
  /** The topology file every process of the system was started with. */
  readonly topologyFile: string;
  readonly prefix: string;
  /** The strangler proxy in front, if any (weights, state). */
  readonly proxy: RunningProxy | undefined;
  token(sub: string, scopes?: string[]): Promise<string>;
  /** `monolith` or a module name; `index` picks the instance. */
  process(which: string, index?: number): Child;
  kill(which: string, index?: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a killed process again on the same port and waits until it is ready. */
  restart(which: string, index?: number): Promise<void>;
  close(): Promise<void>;
}

interface Slot {
  which: string;
  port: number;
  internalPort: number;
  entry: string;
  args: string[];
  env: Record<string, string>;
  child?: Child;
}

export async function startSystem(topology: TopologySpec, options: SystemOptions = {}): Promise<RunningSystem> {
  const deployables = options.deployables ?? systemDeployables;
  const names = deployables.manifests.map((m) => m.name);
  const extracted = topology.extracted === 'all' ? names : topology.extracted.filter((m) => names.includes(m));
  const engine = options.engine ?? 'sqlite';
  const distributed = extracted.length > 0;
  const bus = busPrefix();
  const dir = mkdtempSync(join(tmpdir(), 'topology-'));
  const schemas = (await deployables.load(names)).map((m) => m.schema);
  const store = await prepareStore(engine, schemas);

  const url = (port: number) => `http://127.0.0.1:${port}`;
  const ports = async () => ({ port: await freePort(), internalPort: await freePort() });
  const monolith = await ports();
  const monolithUrl = url(monolith.port);
  const serviceUrls: Record<string, string[]> = {};
  const serviceInternalUrls: Record<string, string[]> = {};
  const servicePorts: Record<string, { port: number; internalPort: number }[]> = {};
  for (const m of extracted) {
    servicePorts[m] = [];
    for (let i = 0; i < (options.instances ?? 1); i++) servicePorts[m].push(await ports());
    serviceUrls[m] = servicePorts[m].map((p) => url(p.port));
    serviceInternalUrls[m] = servicePorts[m].map((p) => url(p.internalPort));
  }

  // The topology names internal listeners (contracts); the proxy's pools name public ones.
  const topologyFile = join(dir, 'topology.json');
  const file: TopologyFile = {
    monolith: { urls: [url(monolith.internalPort)] },
    modules: Object.fromEntries(extracted.map((m) => [m, { state: options.state ?? 'remote', urls: serviceInternalUrls[m]! }])),
  };
  writeFileSync(topologyFile, JSON.stringify(file, null, 2));

  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    SEED: 'false',
    ...testKeysEnv,
    HOST: '127.0.0.1',
    TOPOLOGY_FILE: topologyFile,
    BUS: distributed ? 'bullmq' : 'inprocess',
    REDIS_URL: distributed ? redisUrl() : 'redis://127.0.0.1:6379',
    BUS_PREFIX: bus.prefix,
    BUS_POLL_MS: '100',
    BUS_RETRY_DELAY_MS: '50',
    ...store.env,
    ...options.env,
  };

  const slotEnv = (p: { port: number; internalPort: number }) => ({ ...env, PORT: String(p.port), INTERNAL_PORT: String(p.internalPort) });
  const slots: Slot[] = [{ which: 'monolith', ...monolith, ...deployables.monolith, env: slotEnv(monolith) }];
  for (const m of extracted) {
    for (const p of servicePorts[m]!) slots.push({ which: m, ...p, ...deployables.service(m), env: slotEnv(p) });
  }

  let closing = false;
  const start = async (slot: Slot) => {
    const child = (slot.child = startTs(slot.entry, slot.env, slot.args));
    // A process that dies on its own mid-suite shows up later only as timeouts: say so at once.
    void child.exited.then(({ code, signal }) => {
      if (closing || child.killedByTest) return;
      console.error(`[topology ${topology.name}] ${slot.which}:${slot.port} exited (code ${code}, signal ${signal}) on its own:\n${child.output().slice(-4000)}`);
    });
    // Generous: on two busy cores several processes importing the whole system at once are slow.
    await waitReady(`http://127.0.0.1:${slot.port}`, slot.child, 120_000);
  };
  const stopChild = async (slot: Slot, signal: NodeJS.Signals) => {
    const c = slot.child;
    if (!c || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
    c.killedByTest = true;
    c.proc.kill(signal);
    await c.exited;
  };

  let proxy: RunningProxy | undefined;
  const cleanup = async () => {
    closing = true;
    await proxy?.close().catch(() => undefined);
    await Promise.all(slots.map((s) => stopChild(s, 'SIGKILL')));
    await store.cleanup().catch(() => undefined);
    await bus.cleanup().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // Services first: the monolith may call them as soon as it is ready.
    await Promise.all(slots.slice(1).map(start));
    await start(slots[0]!);
    if (options.proxy ?? distributed) {
      const configPath = join(dir, 'proxy.json');
      const pools: Record<string, { instances: string[] }> = { monolith: { instances: [monolithUrl] } };
      const routes: { name: string; prefix: string; old?: string; new: string; weight: number }[] = [];
      // A remote module's routes have no old side (the monolith no longer serves them); a migrating one's do.
      const old = (options.state ?? 'remote') === 'remote' ? {} : { old: 'monolith' };
      for (const m of extracted) {
        pools[m] = { instances: serviceUrls[m]! };
        const manifest = deployables.manifests.find((x) => x.name === m)!;
        manifest.publicPaths.forEach((prefix, i) => routes.push({ name: i ? `${m}-${i + 1}` : m, prefix, ...old, new: m, weight: options.state === 'migrating' ? (options.weight ?? 100) : 100 }));
      }
      writeFileSync(configPath, JSON.stringify({ pools, defaultPool: 'monolith', routes }, null, 2));
      proxy = await startProxy({ configPath, port: 0, host: '127.0.0.1', tokens: { secret: TEST_JWT_SECRET }, logger: pino({ level: 'silent' }), watchIntervalMs: 60_000 });
    }
  } catch (err) {
    const output = slots.map((s) => `--- ${s.which}:${s.port}\n${s.child?.output().slice(-3000) ?? '(not started)'}`).join('\n');
    await cleanup();
    throw new Error(`${(err as Error).message}\n${output}`);
  }

  const slot = (which: string, index = 0) => {
    const s = slots.filter((x) => x.which === which)[index];
    if (!s) throw new Error(`no process ${which}#${index} in topology ${topology.name}`);
    return s;
  };

  return {
    topology,
    baseUrl: proxy?.url ?? monolithUrl,
    monolithUrl,
    monolithInternalUrl: url(monolith.internalPort),
    extracted,
    serviceUrls,
    serviceInternalUrls,
    topologyFile,
    prefix: bus.prefix,
    proxy,
    token: (sub, scopes = []) => mintToken({ sub, scopes, secret: TEST_JWT_SECRET }),
    process: (which, index) => slot(which, index).child!,
    kill: (which, index, signal = 'SIGKILL') => stopChild(slot(which, index), signal),
    restart: (which, index) => start(slot(which, index)),
    close: cleanup,
  };
}

/** Boots the system for a describe block and stops every process after it. */
export function useSystem(topology: TopologySpec, options: SystemOptions = {}): () => RunningSystem {
  let system: RunningSystem | undefined;
  beforeAll(async () => {
    system = await startSystem(topology, options);
  }, 300_000);
  afterAll(async () => {
    await system?.close();
  }, 60_000);
  return () => {
    if (!system) throw new Error('the system did not start; see beforeAll');
    return system;
  };
}
