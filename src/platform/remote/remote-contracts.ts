// What the kernel calls to make contracts work across deployables: binds the token of every
// contract whose module runs elsewhere to a remote client (so `ctx.contract(c)` in a module, which
// resolves at call time, reaches it without any module code knowing), and builds the internal
// endpoint serving the contracts of the modules hosted here.
import type { DependencyContainer } from 'tsyringe';
import type { Router } from 'express';
import type { Config } from '../config/env.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { ModuleManifest } from '../modules/manifest.ts';
import type { Topology } from '../kernel/topology.ts';
import { serviceCredentials } from './service-credentials.ts';
import { instancePool, type InstancePool } from './instance-pool.ts';
import { bindRemote, breakerStateName, modulePolicies, type ModulePolicies } from './remote-binding.ts';
import { contractEndpoint, type ServedContract } from './contract-endpoint.ts';

/** A deployable that calls or serves contracts over the network was started without the service key. */
export class ServiceCredentialsMissing extends Error {
  override name = 'ServiceCredentialsMissing';
}

/** Modules hosted elsewhere whose contract a module hosted here declares it calls. */
function remoteDependencies(manifests: readonly ModuleManifest[], hosted: ReadonlySet<string>, topology: Topology, deployable: string): ModuleManifest[] {
  const needed = new Set(manifests.filter((m) => hosted.has(m.name)).flatMap((m) => m.dependsOn));
  return manifests.filter((m) => {
    if (!m.contract || hosted.has(m.name) || !needed.has(m.name)) return false;
    // The monolith only calls out to modules that are remote; one started with a subset of the
    // rest keeps them unbound (a call is a ContractViolation naming the missing binding).
    return deployable !== 'monolith' || topology.state(m.name) === 'remote';
  });
}

function dependentsOf(manifests: readonly ModuleManifest[], hosted: ReadonlySet<string>, module: string): string[] {
  return manifests.filter((m) => hosted.has(m.name) && m.dependsOn.includes(module)).map((m) => m.name);
}

/** "orders (elsewhere) calls payments (here)" for every contract served here to a module that runs elsewhere. */
function remoteCallers(manifests: readonly ModuleManifest[], hosted: ReadonlySet<string>, topology: Topology, deployable: string): string[] {
  const runsElsewhere = (name: string) => (deployable === 'monolith' ? topology.state(name) === 'remote' : !hosted.has(name));
  const out: string[] = [];
  for (const served of manifests.filter((m) => m.contract && hosted.has(m.name))) {
    const callers = manifests.filter((m) => runsElsewhere(m.name) && m.dependsOn.includes(served.name)).map((m) => m.name);
    if (callers.length) out.push(`${callers.join(', ')} (in another deployable) call(s) ${served.name}, which runs here`);
  }
  return out;
}

export interface RemoteContracts {
  /** Modules whose contracts this deployable reaches over HTTP. */
  readonly remoteModules: readonly string[];
  policies(module: string): ModulePolicies | undefined;
  endpoint(served: ReadonlyMap<string, ServedContract>): Router;
  close(): void;
}

export function remoteContracts(o: {
  config: Config;
  deployable: string;
  manifests: readonly ModuleManifest[];
  hosted: ReadonlySet<string>;
  topology: Topology;
  container: DependencyContainer;
  metrics: Metrics;
  logger: Logger;
}): RemoteContracts {
  const { config } = o;
  const logger = o.logger.child({ component: 'remote-contracts' });
  const credentials = config.serviceJwtSecret ? serviceCredentials({ secret: config.serviceJwtSecret, deployable: o.deployable }) : undefined;
  const pools = new Map<string, InstancePool>();
  const policies = new Map<string, ModulePolicies>();
  const rejections = o.metrics.counter('contract_remote_rejections_total', 'Remote contract calls refused without trying: circuit open or bulkhead full', ['module', 'reason']);
  o.metrics.gauge('contract_breaker_state', 'Circuit breaker per remote module: 0 closed, 1 open, 2 half-open, 3 isolated', ['module'], function () {
    for (const [module, p] of policies) this.set({ module }, p.breaker.state);
  });

  for (const m of remoteDependencies(o.manifests, o.hosted, o.topology, o.deployable)) {
    const addresses = o.topology.addressesOf(m.name);
    if (!credentials) throw new ServiceCredentialsMissing(`${m.name} runs in another deployable and ${dependentsOf(o.manifests, o.hosted, m.name).join(', ')} call(s) it: set SERVICE_JWT_SECRET (at least 32 characters, the same on every deployable)`);
    const hostedByMonolith = o.topology.state(m.name) !== 'remote';
    const pool = instancePool({
      module: m.name,
      instances: addresses,
      maxSockets: config.REMOTE_MAX_SOCKETS,
      addressHint: hostedByMonolith ? `the monolith's internal address (topology monolith.urls or MONOLITH_URLS), since ${m.name} runs there` : undefined,
    });
    const p = modulePolicies(m.name, {
      timeoutMs: config.REMOTE_TIMEOUT_MS,
      retries: config.REMOTE_RETRIES,
      backoffMs: config.REMOTE_BACKOFF_MS,
      breakerFailures: config.REMOTE_BREAKER_FAILURES,
      halfOpenAfterMs: config.REMOTE_BREAKER_HALF_OPEN_MS,
      bulkhead: config.REMOTE_BULKHEAD,
      bulkheadQueue: config.REMOTE_BULKHEAD_QUEUE,
    });
    p.breaker.onStateChange((state) => logger.warn({ module: m.name, breaker: breakerStateName(state) }, `circuit to ${m.name} is ${breakerStateName(state)}`));
    pools.set(m.name, pool);
    policies.set(m.name, p);
    o.container.register(m.contract!.token, {
      useValue: bindRemote(m.contract!, {
        pool,
        policies: p,
        credentials,
        latency: o.metrics.contractCalls,
        batchMax: config.REMOTE_BATCH_MAX,
        onRejected: (reason) => rejections.inc({ module: m.name, reason }),
      }),
    });
  }
  if (pools.size) logger.info({ remote: Object.fromEntries([...pools].map(([name, pool]) => [name, pool.instances])) }, 'remote contracts bound');

  // A contract hosted here that a module running elsewhere depends on will be called over the
  // network: without the service key every such call would be refused, so say so at start.
  const calledFromElsewhere = remoteCallers(o.manifests, o.hosted, o.topology, o.deployable);
  if (calledFromElsewhere.length && !credentials) {
    throw new ServiceCredentialsMissing(`${calledFromElsewhere.join('; ')}: set SERVICE_JWT_SECRET (at least 32 characters, the same on every deployable)`);
  }

  return {
    remoteModules: [...pools.keys()],
    policies: (module) => policies.get(module),
    endpoint: (served) =>
      contractEndpoint({
        served,
        credentials,
        bodyLimit: config.BODY_LIMIT,
        maxDepth: config.JSON_MAX_DEPTH,
        servedDuration: o.metrics.histogram('contract_served_duration_seconds', 'Contract calls served here: time in the provider per call, batched or not', ['contract', 'operation', 'outcome', 'batched']),
        logger: o.logger.child({ component: 'contract-endpoint' }),
      }),
    close() {
      for (const pool of pools.values()) pool.close();
    },
  };
}
