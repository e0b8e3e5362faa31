// Automatic canary. A route walks through weight steps; each step lasts at least its dwell time
// and is judged on what the new side did during it, against the old side over the same step. While
// the new side's error rate and p99 stay within bounds, the next step follows; the moment they do
// not (once the step has enough requests to judge), the weight goes back to 0 and the reason is kept.
// An operator may pause a canary: it holds its step (the dwell clock stops, so it never advances
// while paused) but keeps judging, so a breach still rolls it back — the safety net stays on while
// someone looks. Resuming carries on with the dwell time the step had left.
import type { CanaryConfig } from './config-schema.ts';
import type { Side } from './side-assignment.ts';

export class SideWindow {
  count = 0;
  errors = 0;
  // Bounded sample of latencies for the p99; a canary step rarely needs more to be judged.
  private readonly latencies: number[] = [];
  private seen = 0;

  add(latencyMs: number, isError: boolean): void {
    this.count++;
    if (isError) this.errors++;
    this.seen++;
    if (this.latencies.length < 5000) this.latencies.push(latencyMs);
    else {
      // Reservoir sampling keeps the sample uniform over the whole step.
      const j = Math.floor(Math.random() * this.seen);
      if (j < 5000) this.latencies[j] = latencyMs;
    }
  }

  errorRate(): number {
    return this.count ? this.errors / this.count : 0;
  }

  p99(): number {
    if (!this.latencies.length) return 0;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
  }

  summary() {
    return { requests: this.count, errors: this.errors, errorRate: round(this.errorRate()), p99Ms: round(this.p99()) };
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000;

export type CanaryStatus = 'running' | 'paused' | 'completed' | 'rolled-back' | 'aborted';

/** Running or paused: a canary that still owns its route's weight and collects its figures. */
export const isActive = (status: string | undefined): boolean => status === 'running' || status === 'paused';

export interface CanaryEvent {
  at: string;
  event: 'started' | 'advanced' | 'paused' | 'resumed' | 'completed' | 'rolled-back' | 'aborted';
  weight: number;
  reason?: string;
  step?: { old: ReturnType<SideWindow['summary']>; new: ReturnType<SideWindow['summary']> };
}

interface RouteCanary {
  config: CanaryConfig;
  status: CanaryStatus;
  step: number;
  stepStartedAt: number;
  /** Set while paused: when the pause began (the dwell clock resumes from there). */
  pausedAt?: number;
  windows: Record<Side, SideWindow>;
  // The old side's figures from the last step where it had traffic: the baseline at weight 100.
  baseline?: SideWindow;
  history: CanaryEvent[];
  /** Why the last weight change failed, while it keeps failing (reported once). */
  failure?: string;
}

export interface CarriedCanary {
  route: string;
  config: CanaryConfig;
  status: CanaryStatus;
  step: number;
  stepStartedAt: number;
  pausedAt?: number;
  history: CanaryEvent[];
}

/** What an operator (or the proxy itself) asks of a route's canary, wherever the controller runs. */
export interface CanaryCommand {
  op: 'start' | 'abort' | 'pause' | 'resume';
  route: string;
  reason?: string;
}

export interface CanaryDeps {
  /** Applies and persists a weight (the same path as the admin API). */
  setWeight(route: string, weight: number): void;
  now?(): number;
  onEvent?(route: string, e: CanaryEvent): void;
  /** A weight change from the timer failed and will be retried. */
  onFailure?(route: string, message: string): void;
}

export class CanaryController {
  private readonly routes = new Map<string, RouteCanary>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly deps: CanaryDeps;

  constructor(deps: CanaryDeps, tickMs = 100) {
    this.deps = deps;
    this.now = deps.now ?? Date.now;
    if (tickMs > 0) {
      this.timer = setInterval(() => this.tick(), tickMs);
      this.timer.unref();
    }
  }

  start(route: string, config: CanaryConfig): void {
    const first = config.steps[0]!;
    const rc: RouteCanary = {
      config,
      status: 'running',
      step: 0,
      stepStartedAt: this.now(),
      windows: { old: new SideWindow(), new: new SideWindow() },
      history: [...(this.routes.get(route)?.history ?? [])],
    };
    this.routes.set(route, rc);
    this.deps.setWeight(route, first.weight);
    this.push(route, rc, { event: 'started', weight: first.weight });
  }

  isRunning(route: string): boolean {
    return this.routes.get(route)?.status === 'running';
  }

  /** The route's canary status, if it ever had one. */
  status(route: string): CanaryStatus | undefined {
    return this.routes.get(route)?.status;
  }

  /** Hot path: one finished request on a route with a running (or paused) canary. */
  record(route: string, side: Side, latencyMs: number, isError: boolean): void {
    const rc = this.routes.get(route);
    if (rc && isActive(rc.status)) rc.windows[side].add(latencyMs, isError);
  }

  /**
   * An operator's command, where this controller is the one that runs the canaries (the process
   * itself, the cluster's primary or the replica holding the lease). `start` takes the route's
   * canary steps from `configOf`, the table in force where the command lands.
   */
  apply(cmd: CanaryCommand, configOf: (route: string) => CanaryConfig | undefined): void {
    if (cmd.op === 'abort') this.abort(cmd.route, cmd.reason ?? 'aborted through the admin API');
    else if (cmd.op === 'pause') this.pause(cmd.route, cmd.reason);
    else if (cmd.op === 'resume') this.resume(cmd.route, cmd.reason);
    else {
      const config = configOf(cmd.route);
      if (config) this.start(cmd.route, config);
    }
  }

  /** Stops a running or paused canary (someone set the weight by hand, or the route went away). */
  abort(route: string, reason: string): void {
    const rc = this.routes.get(route);
    if (!rc || !isActive(rc.status)) return;
    rc.status = 'aborted';
    rc.pausedAt = undefined;
    this.push(route, rc, { event: 'aborted', weight: rc.config.steps[rc.step]!.weight, reason });
  }

  /** Holds a running canary at its step; false if it was not running. */
  pause(route: string, reason = 'paused through the admin API'): boolean {
    const rc = this.routes.get(route);
    if (!rc || rc.status !== 'running') return false;
    rc.status = 'paused';
    rc.pausedAt = this.now();
    this.push(route, rc, { event: 'paused', weight: rc.config.steps[rc.step]!.weight, reason });
    return true;
  }

  /** Lets a paused canary carry on; the step keeps the dwell time it had when paused. */
  resume(route: string, reason = 'resumed through the admin API'): boolean {
    const rc = this.routes.get(route);
    if (!rc || rc.status !== 'paused') return false;
    rc.stepStartedAt += this.now() - (rc.pausedAt ?? this.now());
    rc.pausedAt = undefined;
    rc.status = 'running';
    this.push(route, rc, { event: 'resumed', weight: rc.config.steps[rc.step]!.weight, reason });
    return true;
  }

  tick(): void {
    for (const [route, rc] of this.routes) {
      if (rc.status !== 'running' && rc.status !== 'paused') continue;
      const { config } = rc;
      const step = config.steps[rc.step]!;
      const fresh = rc.windows.new;
      if (fresh.count < config.minRequests) continue;
      const breach = this.breach(rc);
      const summary = { old: rc.windows.old.summary(), new: fresh.summary() };
      if (breach) {
        if (!this.setWeight(route, rc, 0)) continue;
        rc.status = 'rolled-back';
        rc.pausedAt = undefined;
        this.push(route, rc, { event: 'rolled-back', weight: 0, reason: breach, step: summary });
        continue;
      }
      if (rc.status === 'paused' || this.now() - rc.stepStartedAt < step.dwellMs) continue;
      if (rc.windows.old.count >= config.minRequests) rc.baseline = rc.windows.old;
      if (rc.step + 1 >= config.steps.length) {
        rc.status = 'completed';
        this.push(route, rc, { event: 'completed', weight: step.weight, step: summary });
        continue;
      }
      const next = config.steps[rc.step + 1]!.weight;
      if (!this.setWeight(route, rc, next)) continue;
      rc.step++;
      rc.stepStartedAt = this.now();
      rc.windows = { old: new SideWindow(), new: new SideWindow() };
      this.push(route, rc, { event: 'advanced', weight: next, step: summary });
    }
  }

  /**
   * Sets a weight from the timer. If it cannot be written now (the file is mid-edit, say), the step
   * stays where it is and the next tick tries again: a rollback in particular must not be lost,
   * and a timer callback must never throw (that would end the process).
   */
  private setWeight(route: string, rc: RouteCanary, weight: number): boolean {
    try {
      this.deps.setWeight(route, weight);
      rc.failure = undefined;
      return true;
    } catch (err) {
      const message = (err as { reason?: string }).reason ?? (err as Error).message;
      if (message !== rc.failure) this.deps.onFailure?.(route, `the weight could not be set to ${weight}, retrying: ${message}`);
      rc.failure = message;
      return false;
    }
  }

  private breach(rc: RouteCanary): string | undefined {
    const { config } = rc;
    const fresh = rc.windows.new;
    const base = rc.windows.old.count >= config.minRequests ? rc.windows.old : rc.baseline;
    const baseErr = base?.errorRate() ?? 0;
    if (fresh.errorRate() > baseErr + config.maxErrorRateIncrease) {
      return `error rate ${pct(fresh.errorRate())} on the new side vs ${pct(baseErr)} on the old side (allowed +${pct(config.maxErrorRateIncrease)})`;
    }
    if (base) {
      const limit = base.p99() * config.maxP99Ratio + config.p99SlackMs;
      if (fresh.p99() > limit) {
        return `p99 ${fresh.p99().toFixed(1)} ms on the new side vs ${base.p99().toFixed(1)} ms on the old side (limit ${limit.toFixed(1)} ms)`;
      }
    }
    return undefined;
  }

  private push(route: string, rc: RouteCanary, e: Omit<CanaryEvent, 'at'>): void {
    const event = { at: new Date(this.now()).toISOString(), ...e };
    rc.history.push(event);
    if (rc.history.length > 50) rc.history.shift();
    this.deps.onEvent?.(route, event);
  }

  snapshot() {
    const out: Record<string, unknown> = {};
    for (const [route, rc] of this.routes) {
      const step = rc.config.steps[rc.step]!;
      out[route] = {
        status: rc.status,
        step: rc.step,
        steps: rc.config.steps,
        weight: rc.status === 'rolled-back' ? 0 : step.weight,
        stepElapsedMs: rc.status === 'running' ? this.now() - rc.stepStartedAt : rc.status === 'paused' ? (rc.pausedAt ?? this.now()) - rc.stepStartedAt : undefined,
        current: { old: rc.windows.old.summary(), new: rc.windows.new.summary() },
        history: rc.history,
      };
    }
    return out;
  }

  /**
   * What another process needs to carry on this controller's canaries (several proxies sharing
   * one table through Redis, when the one running the canary dies): each route's config, status,
   * step, when the step started and the history. The current step's samples are not carried: the
   * next controller judges the step on what it sees from then on.
   */
  exportState(): CarriedCanary[] {
    return [...this.routes].map(([route, rc]) => ({ route, config: rc.config, status: rc.status, step: rc.step, stepStartedAt: rc.stepStartedAt, pausedAt: rc.pausedAt, history: rc.history }));
  }

  /** Takes over canaries exported by another controller (replacing what this one had). */
  importState(carried: CarriedCanary[]): void {
    this.routes.clear();
    for (const c of carried) {
      this.routes.set(c.route, { ...c, windows: { old: new SideWindow(), new: new SideWindow() } });
    }
  }

  /** 0 idle/none, 1 running, 2 completed, 3 rolled back, 4 aborted, 5 paused — for the canary_state gauge. */
  stateCode(route: string): number {
    const s = this.routes.get(route)?.status;
    return s === 'running' ? 1 : s === 'completed' ? 2 : s === 'rolled-back' ? 3 : s === 'aborted' ? 4 : s === 'paused' ? 5 : 0;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
