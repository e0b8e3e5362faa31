// What the admin API can see and do, apart from how it is reached over HTTP (admin-api.ts): the
// live state, a route's weight, its canary. In a cluster worker the canary lives in the primary, so
// canary commands and state go through the `cluster` hooks instead of the local controller. Every
// change answers what it changed from and to: the audit log records exactly that.
import type { LiveConfig } from './live-config.ts';
import { isActive, type CanaryCommand, type CanaryController } from './canary-controller.ts';
import type { ShadowReport } from './shadow-compare.ts';

/** A change an action made (or asked the canary's controller to make): what, from which value to which. */
export interface Change {
  route: string;
  from: string | number;
  to: string | number;
}

export interface AdminActions {
  state(): Promise<Record<string, unknown>>;
  /**
   * Sets a route's weight. A move of more points than the config's `console.confirmStep` is
   * refused unless `confirmed` (the admin API passes the body's `confirm: true`).
   */
  setWeight(route: string, weight: number, options?: { confirmed?: boolean }): Change;
  startCanary(route: string): Change;
  pauseCanary(route: string): Change;
  resumeCanary(route: string): Change;
  abortCanary(route: string): Change;
}

/** A request the admin API understood and refuses: unknown route, nothing to start, file mid-edit. */
export class AdminRefusal extends Error {
  override name = 'AdminRefusal';
  readonly status: 403 | 404 | 409;
  readonly code: string;
  constructor(status: 403 | 404 | 409, code: string, detail: string) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

export interface ClusterCanary {
  state(): unknown;
  command(cmd: CanaryCommand): void;
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
  const canaryView = (): Record<string, { status?: string } | undefined> => (cluster ? cluster.state() : canary.snapshot()) as Record<string, { status?: string } | undefined>;
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
      canary: canaryView(),
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
  const canaryStatus = (route: string) => canaryView()[route]?.status ?? 'none';
  const command = (cmd: CanaryCommand) => {
    if (cluster) cluster.command(cmd);
    else canary.apply(cmd, (route) => routeConfig(route).canary);
  };
  return {
    state,
    setWeight(route, weight, options = {}) {
      const rc = routeConfig(route);
      if (rc.old === undefined) throw new AdminRefusal(409, 'SingleSidedRoute', `route "${route}" has no old side: all its traffic goes to "${rc.new}"`);
      const step = live.table().config.console.confirmStep;
      const jump = Math.abs(weight - rc.weight);
      if (jump > step && !options.confirmed) {
        throw new AdminRefusal(
          409,
          'ConfirmationRequired',
          `moving route "${route}" from ${rc.weight} to ${weight} shifts ${jump} points of users at once, more than the confirmation step of ${step}: send "confirm": true to do it`,
        );
      }
      // A hand-set weight wins over a running canary: the operator is in charge.
      command({ op: 'abort', route, reason: `weight set to ${weight} through the admin API` });
      live.persistWeight(route, weight);
      return { route, from: rc.weight, to: weight };
    },
    startCanary(route) {
      const rc = routeConfig(route);
      if (!rc.canary) throw new AdminRefusal(409, 'NoCanarySteps', `route "${route}" has no canary steps in the config`);
      const from = canaryStatus(route);
      command({ op: 'start', route });
      return { route, from, to: 'running' };
    },
    pauseCanary(route) {
      routeConfig(route);
      const from = canaryStatus(route);
      if (from !== 'running') throw new AdminRefusal(409, 'CanaryNotRunning', `the canary of route "${route}" is ${from === 'none' ? 'not started' : from}: only a running canary can be paused`);
      command({ op: 'pause', route, reason: 'paused through the admin API' });
      return { route, from, to: 'paused' };
    },
    resumeCanary(route) {
      routeConfig(route);
      const from = canaryStatus(route);
      if (from !== 'paused') throw new AdminRefusal(409, 'CanaryNotPaused', `the canary of route "${route}" is ${from === 'none' ? 'not started' : from}: only a paused canary can be resumed`);
      command({ op: 'resume', route, reason: 'resumed through the admin API' });
      return { route, from, to: 'running' };
    },
    abortCanary(route) {
      routeConfig(route);
      const from = canaryStatus(route);
      command({ op: 'abort', route, reason: 'aborted through the admin API' });
      return { route, from, to: isActive(from) ? 'aborted' : from };
    },
  };
}
