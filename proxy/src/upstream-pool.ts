// One pool of instances of a deployable. Instances are health-checked on /health/ready and
// taken out after repeated probe or connect failures, put back after a passing probe; picking skips
// the ones that are out. If every instance is out we still try one: a request that might succeed
// beats a certain 503 (and the fallback to the other side still applies).
import { isIP } from 'node:net';
import type { UpstreamAgents } from './upstream-agents.ts';
import type { PoolConfig } from './config-schema.ts';

export class UpstreamInstance {
  readonly url: URL;
  healthy = true;
  inFlight = 0;
  private failures = 0;
  private successes = 0;

  readonly base: string;
  /** `url.origin`, which URL computes anew on every read: read once per forwarded request. */
  readonly origin: string;
  /** The instance URL's path, if any, put in front of every forwarded path ('' for a bare origin). */
  readonly pathPrefix: string;
  /** The TLS server name for https instances (none for an IP address, as RFC 6066 wants). */
  readonly tlsName: string | undefined;
  private readonly check: PoolConfig['healthCheck'];

  constructor(base: string, check: PoolConfig['healthCheck']) {
    this.base = base;
    this.check = check;
    this.url = new URL(base);
    this.origin = this.url.origin;
    this.pathPrefix = this.url.pathname.replace(/\/+$/, '');
    this.tlsName = isIP(this.url.hostname) ? undefined : this.url.hostname;
  }

  /** A probe failed or a request could not connect. Returns true if this took the instance out. */
  recordFailure(): boolean {
    this.successes = 0;
    this.failures++;
    if (this.healthy && this.failures >= this.check.unhealthyAfter) {
      this.healthy = false;
      return true;
    }
    return false;
  }

  /** A probe passed. Returns true if this put the instance back. */
  recordSuccess(): boolean {
    this.failures = 0;
    this.successes++;
    if (!this.healthy && this.successes >= this.check.healthyAfter) {
      this.healthy = true;
      return true;
    }
    return false;
  }
}

export interface PoolEvents {
  onEjected?(pool: string, instance: string): void;
  onReadmitted?(pool: string, instance: string): void;
}

export class UpstreamPool {
  readonly instances: UpstreamInstance[];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;

  readonly name: string;
  readonly config: PoolConfig;
  private readonly agents: UpstreamAgents;
  private readonly events: PoolEvents;

  constructor(name: string, config: PoolConfig, agents: UpstreamAgents, events: PoolEvents = {}) {
    this.name = name;
    this.config = config;
    this.agents = agents;
    this.events = events;
    this.instances = config.instances.map((base) => new UpstreamInstance(base, config.healthCheck));
  }

  /** The next instance to use; `avoid` (one that just failed) is skipped if there is any other. */
  pick(avoid?: UpstreamInstance): UpstreamInstance {
    const all = this.instances;
    if (all.length === 1) return all[0]!;
    if (avoid) {
      const others = all.filter((i) => i !== avoid);
      return others.find((i) => i.healthy) ?? others[0]!;
    }
    if (this.config.balance === 'least-connections') {
      let best: UpstreamInstance | undefined;
      // Start the scan at a rotating offset so ties do not always land on the first instance.
      const start = this.next++ % all.length;
      for (let i = 0; i < all.length; i++) {
        const inst = all[(start + i) % all.length]!;
        if (inst.healthy && (!best || inst.inFlight < best.inFlight)) best = inst;
      }
      return best ?? all[start]!;
    }
    for (let i = 0; i < all.length; i++) {
      const inst = all[this.next++ % all.length]!;
      if (inst.healthy) return inst;
    }
    return all[this.next++ % all.length]!;
  }

  /** A request to `inst` could not connect: counts like a failed probe. */
  connectFailed(inst: UpstreamInstance): void {
    if (inst.recordFailure()) this.events.onEjected?.(this.name, inst.base);
  }

  startHealthChecks(): void {
    if (this.timer) return;
    const run = () => {
      for (const inst of this.instances) void this.probe(inst);
    };
    run();
    this.timer = setInterval(run, this.config.healthCheck.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private probe(inst: UpstreamInstance): Promise<void> {
    const { path, timeoutMs } = this.config.healthCheck;
    return new Promise((resolve) => {
      let done = false;
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        if (ok) {
          if (inst.recordSuccess()) this.events.onReadmitted?.(this.name, inst.base);
        } else if (inst.recordFailure()) this.events.onEjected?.(this.name, inst.base);
        resolve();
      };
      const req = this.agents.request(new URL(path, inst.url), { method: 'GET', timeout: timeoutMs }, (res) => {
        res.resume();
        res.on('end', () => finish(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300));
        res.on('error', () => finish(false));
      });
      req.on('timeout', () => req.destroy(new Error('health check timed out')));
      req.on('error', () => finish(false));
      req.end();
    });
  }
}
