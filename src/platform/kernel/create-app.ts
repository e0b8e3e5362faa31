// The kernel: turns module definitions into one running deployable. It opens each hosted
// module's own store, binds every contract token in the container (in-process for hosted
// modules), mounts routes behind the edge middleware, and owns start-up and graceful shutdown.
import 'reflect-metadata';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import type { Config } from '../config/env.ts';
import { createLogger, type Logger } from '../logging/logger.ts';
import { createMetrics, type Metrics } from '../metrics/registry.ts';
import type { ModuleStore } from '../data/module-store.ts';
import { openModuleStore } from '../data/open-store.ts';
import { migrateModules } from '../data/migrate.ts';
import { bindInProcess } from '../contracts/in-process-binding.ts';
import type { Contract, ContractApi } from '../contracts/define-contract.ts';
import type { ModuleDefinition, ModuleParts } from '../modules/define-module.ts';
import type { ModuleManifest } from '../modules/manifest.ts';
import { unitOfWorkFor, type RunUnitOfWork } from '../bus/unit-of-work.ts';
import { createEventBus, type EventBus } from '../bus/event-bus.ts';
import { adminRoutes } from '../http/admin-routes.ts';
import { createTokenVerifier } from '../auth/jwt.ts';
import { authenticate } from '../auth/caller.ts';
import { requestContext } from '../http/request-context.ts';
import { observe } from '../http/observe.ts';
import { requireJsonBody } from '../http/require-json.ts';
import { notFoundHandler, problemHandler } from '../http/problem.ts';
import { healthRoutes, type HealthState, type ReadinessCheck } from '../http/health.ts';
import { ContractViolation } from '../errors/domain-error.ts';
import { checkBusFitsTopology, hostedModules, loadTopology, type Topology } from './topology.ts';
import { remoteContracts } from '../remote/remote-contracts.ts';
import type { ServedContract } from '../remote/contract-endpoint.ts';

export interface AppOptions {
  config: Config;
  /** Every module of the system, hosted here or not. */
  manifests: readonly ModuleManifest[];
  /** The modules this deployable runs. */
  modules: readonly ModuleDefinition[];
  /** `monolith`, or `<module>-service` for an extracted module. */
  deployable: string;
  logger?: Logger;
  /** Where modules live (default: read from TOPOLOGY_FILE plus MODULE_<NAME>_URLS overrides). */
  topology?: Topology;
}

export interface RunningApp {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly container: DependencyContainer;
  readonly http: Express;
  readonly stores: ReadonlyMap<string, ModuleStore>;
  readonly health: HealthState;
  readonly bus: EventBus;
  contract<C extends Contract>(contract: C): ContractApi<C>;
  /** Starts listening; resolves once the port is bound. */
  listen(port?: number, host?: string): Promise<{ server: Server; port: number }>;
  /** Graceful stop: readiness off, no new connections, in-flight requests finish, stores close. */
  stop(): Promise<void>;
}

export async function createApp(options: AppOptions): Promise<RunningApp> {
  const { config, deployable } = options;
  const logger = options.logger ?? createLogger(config.LOG_LEVEL, { deployable });
  const metrics = createMetrics({ deployable });
  const container = rootContainer.createChildContainer();
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
  const bus = createEventBus({ config, manifests: options.manifests, hostedNames: [...hosted.keys()], metrics, logger });
  const stores = new Map<string, ModuleStore>();
  const unitsOfWork = new Map<string, RunUnitOfWork>();
  const parts = new Map<string, ModuleParts<Contract | undefined>>();
  const readiness: ReadinessCheck[] = [];
  const served = new Map<string, ServedContract>();
  try {
    for (const def of modules) {
      const name = def.manifest.name;
      const store = openModuleStore(def.schema, config, deployable);
      let migrated = false;
      stores.set(name, store);
      readiness.push({
        name: `store:${name}`,
        async check() {
          await store.ping();
          // Migrations only move forward: once all are applied, stop re-reading the folder per probe.
          if (migrated) return;
          const pending = await store.pendingMigrations();
          if (pending > 0) throw new Error(`${pending} migration(s) not applied; run npm run migrate`);
          migrated = true;
        },
      });
      const declared = new Set(def.manifest.dependsOn);
      const moduleLogger = logger.child({ module: name });
      const unitOfWork = unitOfWorkFor(store, def.manifest.publishes, () => bus.kick(name));
      unitsOfWork.set(name, unitOfWork);
      const part = await def.setup({
        name,
        config,
        logger: moduleLogger,
        metrics,
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

  const http = express();
  http.disable('x-powered-by');
  http.set('trust proxy', 'loopback, linklocal, uniquelocal');
  http.set('query parser', 'simple');
  // While draining, every answer closes its connection so keep-alive clients move elsewhere.
  http.use((_req, res, next) => {
    if (health.draining) res.setHeader('Connection', 'close');
    next();
  });
  http.use(requestContext);
  http.use(observe(logger, metrics));
  http.use(healthRoutes(health, () => readiness));
  http.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  // Other deployables call the contracts hosted here, with a service credential (remote/).
  http.use(remote.endpoint(served));
  const verifier = createTokenVerifier({ secret: config.jwtSecret, jwksUrl: config.JWT_JWKS_URL, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE });
  http.use('/api', authenticate(verifier), requireJsonBody, express.json({ limit: config.BODY_LIMIT, strict: true }));
  http.use('/admin', authenticate(verifier), requireJsonBody, express.json({ limit: config.BODY_LIMIT }), adminRoutes(bus));
  for (const part of parts.values()) if (part.routes) http.use(part.routes);
  http.use(notFoundHandler);
  http.use(problemHandler(logger));

  if (config.seed) for (const part of parts.values()) await part.seed?.();
  bus.start(
    [...parts].map(([name, part]) => ({ name, store: stores.get(name)!, unitOfWork: unitsOfWork.get(name)!, subscriptions: part.subscriptions ?? [] })),
  );
  for (const part of parts.values()) await part.start?.();
  health.started = true;

  let server: Server | undefined;
  let connections: ReturnType<typeof trackConnections> | undefined;
  let stopping: Promise<void> | undefined;

  return {
    config,
    logger,
    metrics,
    container,
    http,
    stores,
    health,
    bus,
    contract: (contract) => lazyContract(container, contract),
    listen(port = config.PORT, host = config.HOST) {
      return new Promise((resolve, reject) => {
        server = createServer({ keepAliveTimeout: 5_000 }, http);
        connections = trackConnections(server);
        server.once('error', reject);
        server.listen(port, host, () => {
          const bound = (server!.address() as AddressInfo).port;
          logger.info({ port: bound, modules: [...hosted.keys()] }, `${deployable} listening`);
          resolve({ server: server!, port: bound });
        });
      });
    },
    stop() {
      stopping ??= (async () => {
        health.draining = true;
        if (connections) await connections.drain(config.SHUTDOWN_TIMEOUT_MS, logger);
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

function checkSubscriptions(def: ModuleDefinition, part: ModuleParts<Contract | undefined>): void {
  const declared = new Set(def.manifest.subscribes.map((e) => e.key));
  const handled = (part.subscriptions ?? []).map((s) => s.event.key);
  for (const key of handled) if (!declared.has(key)) throw new Error(`${def.manifest.name} handles ${key} but its manifest does not list it in subscribes`);
  for (const key of declared) if (!handled.includes(key)) throw new Error(`${def.manifest.name} subscribes to ${key} but its setup returned no handler for it`);
  if (new Set(handled).size !== handled.length) throw new Error(`${def.manifest.name} has two handlers for one event`);
}

function checkManifests(manifests: readonly ModuleManifest[], modules: readonly ModuleDefinition[]): void {
  const names = new Set(manifests.map((m) => m.name));
  for (const m of modules) {
    if (!names.has(m.manifest.name)) throw new Error(`Module ${m.manifest.name} is hosted but has no manifest in the system`);
    if (m.schema.module !== m.manifest.name) throw new Error(`Module ${m.manifest.name} uses the schema of ${m.schema.module}`);
    for (const dep of m.manifest.dependsOn) if (!names.has(dep)) throw new Error(`${m.manifest.name} depends on unknown module ${dep}`);
  }
}

/**
 * Stops accepting, lets in-flight requests finish, and closes each keep-alive connection as soon
 * as it has no request in progress. Node's own idle tracking counts a connection whose request
 * body is still arriving as idle, so requests are counted per socket here instead.
 */
function trackConnections(server: Server) {
  const inFlight = new Map<Socket, number>();
  let draining = false;
  server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      if (draining && left === 0) socket.destroySoon();
    });
  });
  return {
    drain(timeoutMs: number, logger: Logger): Promise<void> {
      draining = true;
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          logger.warn({ timeoutMs, open: inFlight.size }, 'in-flight requests did not finish in time; closing their connections');
          for (const socket of inFlight.keys()) socket.destroy();
        }, timeoutMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        for (const [socket, n] of inFlight) if (n === 0) socket.destroySoon();
      });
    },
  };
}
