// The kernel: turns declared modules into one running deployable. It opens each hosted module's
// own store, binds every contract token in the container (in-process for hosted modules, remote
// for those that run elsewhere), builds the two listeners — the public one (REST under /api,
// probes) and the internal one (contract endpoints, /metrics, admin routes, probes), so a public
// ingress cannot reach internals even without the proxy in front — schedules the modules' jobs
// and its own housekeeping, and owns start-up and graceful shutdown.
import 'reflect-metadata';
import type { Express } from 'express';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { isLoopbackHost } from '../../../lib/trust/index.ts';
import type { Config } from '../config/env.ts';
import { createLogger, type Logger } from '../logging/logger.ts';
import { createMetrics, type Metrics } from '../metrics/registry.ts';
import type { ModuleStore } from '../data/module-store.ts';
import { openModuleStore } from '../data/open-store.ts';
import { migrateModules } from '../data/migrate.ts';
import { bindInProcess } from '../contracts/in-process-binding.ts';
import type { Contract, ContractApi, ContractHandlers } from '../contracts/define-contract.ts';
import type { Module, ModuleParts } from '../modules/define-module.ts';
import type { ModuleManifest } from '../modules/manifest.ts';
import { systemClock, type Clock } from '../modules/clock.ts';
import { unitOfWorkFor, type RunUnitOfWork } from '../bus/unit-of-work.ts';
import { createEventBus, type EventBus } from '../bus/event-bus.ts';
import { tokenVerifierFor } from '../auth/jwt.ts';
import type { HealthState, ReadinessCheck } from '../http/health.ts';
import { ContractViolation } from '../errors/domain-error.ts';
import { checkBusFitsTopology, hostedModules, loadTopology, type Topology } from './topology.ts';
import { remoteContracts } from '../remote/remote-contracts.ts';
import type { ServedContract } from '../remote/contract-endpoint.ts';
import { publicHttp } from './public-http.ts';
import { internalHttp } from './internal-http.ts';
import { listen, type Listener } from './listener.ts';
import { scheduleJobs, type JobScheduler, type OwnedJob } from './jobs.ts';
import { housekeepingJobs } from './housekeeping.ts';
import { startTracing } from '../../../lib/telemetry/index.ts';

/** A contract bound to hand-written handlers instead of its real module (a module test's neighbours). */
export interface ContractFake {
  contract: Contract;
  handlers: ContractHandlers<Contract>;
}

export interface AppOptions {
  config: Config;
  /** Each hosted module's validated settings (loadDeployableConfig); a module missing here gets its defaults. */
  settings?: ReadonlyMap<string, Record<string, unknown>>;
  /** Every module of the system, hosted here or not. */
  manifests: readonly ModuleManifest[];
  /** The modules this deployable runs. */
  modules: readonly Module[];
  /** `monolith`, or `<module>-service` for an extracted module. */
  deployable: string;
  logger?: Logger;
  /** Where modules live (default: read from TOPOLOGY_FILE plus MODULE_<NAME>_URLS overrides). */
  topology?: Topology;
  clock?: Clock;
  fakes?: readonly ContractFake[];
}

export interface ListenOptions {
  port?: number;
  host?: string;
  internalPort?: number;
  internalHost?: string;
}

export interface Bound {
  port: number;
  internalPort: number;
}

export interface RunningApp {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly container: DependencyContainer;
  /** The public listener's routes: /api, /health. */
  readonly http: Express;
  /** The internal listener's routes: contract endpoints, /metrics, /admin, /health. */
  readonly internal: Express;
  readonly stores: ReadonlyMap<string, ModuleStore>;
  readonly health: HealthState;
  readonly bus: EventBus;
  readonly jobs: JobScheduler;
  contract<C extends Contract>(contract: C): ContractApi<C>;
  /** Starts both listeners; resolves once both ports are bound. */
  listen(options?: ListenOptions): Promise<Bound>;
  /** Graceful stop: readiness off, no new connections, in-flight requests finish, stores close. */
  stop(): Promise<void>;
}

export async function createApp(options: AppOptions): Promise<RunningApp> {
  const { config, deployable } = options;
  // A no-op when bootstrap started tracing already; an app built directly (tests) propagates trace
  // context the same way a deployable does.
  await startTracing({ serviceName: deployable });
  const logger = options.logger ?? createLogger(config.LOG_LEVEL, { deployable });
  const metrics = createMetrics({ deployable });
  const container = rootContainer.createChildContainer();
  const clock = options.clock ?? systemClock;
  const health: HealthState = { started: false, draining: false };
  const topology = options.topology ?? loadTopology(config);
  const modules = hostedModules(options.modules, topology, deployable);
  checkBusFitsTopology(topology, config.BUS, deployable);
  const hosted = new Map(modules.map((m) => [m.manifest.name, m]));
  checkManifests(options.manifests, modules);

  // Embedded default: migrations apply by themselves (elsewhere they are a one-off admin step).
  if (config.storeEngine === 'sqlite') {
    await migrateModules(modules.map((m) => m.schema), config);
  }

  const remote = remoteContracts({ config, deployable, manifests: options.manifests, hosted: new Set(hosted.keys()), topology, container, metrics, logger });
  for (const fake of options.fakes ?? []) {
    container.register(fake.contract.token, { useValue: bindInProcess(fake.contract, fake.handlers, metrics.contractCalls) });
  }
  const bus = await createEventBus({ config, manifests: options.manifests, hostedNames: [...hosted.keys()], metrics, logger });
  const stores = new Map<string, ModuleStore>();
  // Postgres only: a group refused goes again unit by unit (decision 29); 40P01 counts deadlocks.
  const groupsRefused = metrics.counter('pg_commit_groups_refused_total', 'Postgres: commit groups of units of held writes the server refused, each unit then sent again alone, by SQLSTATE (40P01: a deadlock)', ['module', 'code']);
  const unitsOfWork = new Map<string, RunUnitOfWork>();
  const parts = new Map<string, ModuleParts<Contract | undefined>>();
  const readiness: ReadinessCheck[] = [];
  const served = new Map<string, ServedContract>();
  const jobs: OwnedJob[] = [];
  try {
    for (const def of modules) {
      const name = def.manifest.name;
      const store = await openModuleStore(def.schema, config, deployable, { refused: (code) => groupsRefused.inc({ module: name, code }) });
      stores.set(name, store);
      readiness.push(storeReadiness(name, store));
      const declared = new Set(def.manifest.dependsOn);
      const unitOfWork = unitOfWorkFor(store, def.manifest.publishes, () => bus.kick(name));
      unitsOfWork.set(name, unitOfWork);
      const part = await def.setup({
        name,
        config,
        settings: options.settings?.get(name) ?? def.settings.parse({}),
        logger: logger.child({ module: name }),
        metrics,
        clock,
        store,
        unitOfWork,
        contract<C extends Contract>(contract: C): ContractApi<C> {
          if (!declared.has(contract.name)) {
            throw new ContractViolation(`${name} calls ${contract.name} without declaring it in dependsOn`);
          }
          return lazyContract(container, contract);
        },
      });
      parts.set(name, part);
      checkSubscriptions(def, part);
      for (const job of part.jobs ?? []) jobs.push({ owner: name, job });
      if (def.manifest.contract) {
        if (!part.handlers) throw new Error(`${name} declares a contract but its setup returned no handlers`);
        container.register(def.manifest.contract.token, {
          useValue: bindInProcess(def.manifest.contract, part.handlers, metrics.contractCalls),
        });
        served.set(name, { contract: def.manifest.contract, handlers: part.handlers as ServedContract['handlers'] });
      }
    }
    readiness.push({ name: `bus:${config.BUS}`, check: () => bus.ready() });
  } catch (err) {
    remote.close();
    await Promise.allSettled([...stores.values()].map((s) => s.close()));
    throw err;
  }

  const verifier = tokenVerifierFor(config);
  const edge = { deployable, config, logger, metrics, health, readiness: () => readiness, verifier };
  const http = publicHttp(edge, [...parts.values()].flatMap((p) => (p.routes ? [p.routes] : [])));
  const internal = internalHttp(edge, { contracts: remote.endpoint(served), served: [...served.values()].map((s) => s.contract), bus });

  if (config.seed) for (const part of parts.values()) await part.seed?.();
  bus.start(
    [...parts].map(([name, part]) => ({ name, store: stores.get(name)!, unitOfWork: unitsOfWork.get(name)!, subscriptions: part.subscriptions ?? [] })),
  );
  for (const part of parts.values()) await part.start?.();
  const scheduler = scheduleJobs([...housekeepingJobs(stores, modules, config, logger), ...jobs], logger, metrics);
  scheduler.start();
  health.started = true;

  let listeners: Listener[] = [];
  let stopping: Promise<void> | undefined;

  return {
    config,
    logger,
    metrics,
    container,
    http,
    internal,
    stores,
    health,
    bus,
    jobs: scheduler,
    contract: (contract) => lazyContract(container, contract),
    async listen(o = {}) {
      const host = o.host ?? config.HOST;
      const internalHost = o.internalHost ?? o.host ?? config.INTERNAL_HOST;
      const internalPort = o.internalPort ?? (o.port === undefined ? config.INTERNAL_PORT : o.port === 0 ? 0 : o.port + 1000);
      const publicListener = await listen(http, o.port ?? config.PORT, host);
      const internalListener = await listen(internal, internalPort, internalHost).catch(async (err: Error) => {
        await publicListener.drain(0, logger);
        throw err;
      });
      listeners = [publicListener, internalListener];
      logger.info({ port: publicListener.port, internalPort: internalListener.port, modules: [...hosted.keys()] }, `${deployable} listening`);
      if (config.keySource === 'development-file' && (!isLoopbackHost(host) || !isLoopbackHost(internalHost))) {
        logger.warn(
          { host, internalHost },
          'serving with development keys (DATA_DIR/dev-keys.json) on an address other machines can reach: anyone who reads that file can mint tokens; set JWT_SECRET and SERVICE_JWT_SECRET, or bind HOST to 127.0.0.1',
        );
      }
      return { port: publicListener.port, internalPort: internalListener.port };
    },
    stop() {
      stopping ??= (async () => {
        health.draining = true;
        for (const part of parts.values()) part.draining?.();
        await Promise.all(listeners.map((l) => l.drain(config.SHUTDOWN_TIMEOUT_MS, logger)));
        await scheduler.stop();
        for (const part of [...parts.values()].reverse()) await part.stop?.().catch((err) => logger.error({ err }, 'module stop failed'));
        await bus.stop().catch((err) => logger.error({ err }, 'bus stop failed'));
        remote.close();
        await Promise.allSettled([...stores.values()].map((s) => s.close()));
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}

function storeReadiness(name: string, store: ModuleStore): ReadinessCheck {
  let migrated = false;
  return {
    name: `store:${name}`,
    async check() {
      await store.ping();
      // Migrations only move forward: once all are applied, stop re-reading the folder per probe.
      if (migrated) return;
      const pending = await store.pendingMigrations();
      if (pending > 0) throw new Error(`${pending} migration(s) not applied; run npm run migrate`);
      migrated = true;
    },
  };
}

/** Resolved at call time, so modules can be set up in any order and a binding can be swapped. */
function lazyContract<C extends Contract>(container: DependencyContainer, contract: C): ContractApi<C> {
  const api: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const op of Object.keys(contract.operations)) {
    api[op] = (input) => {
      if (!container.isRegistered(contract.token, true)) {
        return Promise.reject(new ContractViolation(`No binding for the ${contract.name} contract in this deployable`));
      }
      const bound = container.resolve<Record<string, (i: unknown) => Promise<unknown>>>(contract.token);
      return bound[op]!(input);
    };
  }
  return api as ContractApi<C>;
}

function checkSubscriptions(def: Module, part: ModuleParts<Contract | undefined>): void {
  const declared = new Set(def.manifest.subscribes.map((e) => e.key));
  const handled = (part.subscriptions ?? []).map((s) => s.event.key);
  for (const key of handled) if (!declared.has(key)) throw new Error(`${def.manifest.name} handles ${key} but its manifest does not list it in subscribes`);
  for (const key of declared) if (!handled.includes(key)) throw new Error(`${def.manifest.name} subscribes to ${key} but its setup returned no handler for it`);
  if (new Set(handled).size !== handled.length) throw new Error(`${def.manifest.name} has two handlers for one event`);
}

function checkManifests(manifests: readonly ModuleManifest[], modules: readonly Module[]): void {
  const names = new Set(manifests.map((m) => m.name));
  for (const m of modules) {
    if (!names.has(m.manifest.name)) throw new Error(`Module ${m.manifest.name} is hosted but has no manifest in the system`);
    if (m.schema.module !== m.manifest.name) throw new Error(`Module ${m.manifest.name} uses the schema of ${m.schema.module}`);
    for (const dep of m.manifest.dependsOn) if (!names.has(dep)) throw new Error(`${m.manifest.name} depends on unknown module ${dep}`);
  }
}
