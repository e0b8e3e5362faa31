// What the admin API can see and do, apart from how it is reached over HTTP (admin-api.ts): the
// live state, a route's weight, its canary. In a cluster worker the canary lives in the primary, so
// canary commands and state go through the `cluster` hooks instead of the local controller.
import type { LiveConfig } from './live-config.ts';
import type { CanaryController } from './canary-controller.ts';
import type { ShadowReport } from './shadow-compare.ts';

export interface AdminActions {
  state(): Promise<Record<string, unknown>>;
  setWeight(route: string, weight: number): void;
  startCanary(route: string): void;
  abortCanary(route: string): void;
}

/** A request the admin API understood and refuses: unknown route, nothing to start, file mid-edit. */
export class AdminRefusal extends Error {
  override name = 'AdminRefusal';
  readonly status: 404 | 409;
  readonly code: string;
  constructor(status: 404 | 409, code: string, detail: string) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

export interface ClusterCanary {
  state(): unknown;
  command(cmd: { op: 'start' | 'abort'; route: string }): void;
}

/** Figures kept by every process together (Redis), when proxies share one table. */
export interface SharedFigures {
  shadow(routes: string[]): Promise<unknown>;
  fallbacks(): Promise<unknown>;
  leaseHolder(): Promise<string | undefined>;
  id: string;
}

export function adminActions(
  live: LiveConfig,
  canary: CanaryController,
  shadowReport: ShadowReport,
  fallbacks: () => unknown,
  cluster: ClusterCanary | undefined,
  shared: SharedFigures | undefined,
): AdminActions {
  const state = async () => {
    const table = live.table();
    const cfg = table.config;
    const routeNames = cfg.routes.map((r) => r.name);
    return {
      // Which process answered (several with PROXY_WORKERS): lets an operator see they agree.
      pid: process.pid,
      routes: cfg.routes.map((r) => ({ name: r.name, prefix: r.prefix, methods: r.methods ?? 'any', old: r.old, new: r.new, weight: r.weight, shadow: r.shadow, canary: r.canary })),
      pools: [...table.pools.values()].map((p) => ({
        name: p.name,
        balance: p.config.balance,
        instances: p.instances.map((i) => ({ url: i.base, healthy: i.healthy, inFlight: i.inFlight })),
      })),
      defaultPool: cfg.defaultPool,
      shadow: shared ? await shared.shadow(routeNames) : shadowReport.snapshot(),
      fallbacks: shared ? await shared.fallbacks() : fallbacks(),
      canary: cluster ? cluster.state() : canary.snapshot(),
      // With a shared table: this process's id and the one running the canary.
      ...(shared ? { instance: shared.id, canaryController: (await shared.leaseHolder()) ?? null } : {}),
      // The shared secret stays in the file: the state says only whether there is one.
      config: { ...cfg, overrideSecret: cfg.overrideSecret === undefined ? undefined : '(set)' },
    };
  };
  const routeConfig = (route: string) => {
    const rc = live.table().config.routes.find((r) => r.name === route);
    if (!rc) throw new AdminRefusal(404, 'UnknownRoute', `no route named "${route}"`);
    return rc;
  };
  return {
    state,
    setWeight(route, weight) {
      const rc = routeConfig(route);
      if (rc.old === undefined) throw new AdminRefusal(409, 'SingleSidedRoute', `route "${route}" has no old side: all its traffic goes to "${rc.new}"`);
      // A hand-set weight wins over a running canary: the operator is in charge.
      if (cluster) cluster.command({ op: 'abort', route });
      else canary.abort(route, `weight set to ${weight} through the admin API`);
      live.persistWeight(route, weight);
    },
    startCanary(route) {
      const rc = routeConfig(route);
      if (!rc.canary) throw new AdminRefusal(409, 'NoCanarySteps', `route "${route}" has no canary steps in the config`);
      if (cluster) cluster.command({ op: 'start', route });
      else canary.start(route, rc.canary);
    },
    abortCanary(route) {
      routeConfig(route);
      if (cluster) cluster.command({ op: 'abort', route });
      else canary.abort(route, 'aborted through the admin API');
    },
  };
}
