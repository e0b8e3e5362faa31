// The live routing state built from one validated config: routes by prefix (longest first) and pools
// with their health checkers. Rebuilt on every reload; instances whose URL did not change keep their
// health state and in-flight counts, so a reload does not put a dead instance back in rotation.
import type { UpstreamAgents } from './upstream-agents.ts';
import type { ProxyConfig, RouteConfig } from './config-schema.ts';
import { UpstreamPool, type PoolEvents } from './upstream-pool.ts';

export interface CompiledRoute {
  config: RouteConfig;
  methods: Set<string> | undefined;
}

export class RouteTable {
  readonly routes: CompiledRoute[];
  readonly pools = new Map<string, UpstreamPool>();
  readonly config: ProxyConfig;

  constructor(config: ProxyConfig, agents: UpstreamAgents, events: PoolEvents, previous?: RouteTable) {
    this.config = config;
    for (const [name, poolConfig] of Object.entries(config.pools)) {
      const pool = new UpstreamPool(name, poolConfig, agents, events);
      const old = previous?.pools.get(name);
      if (old) {
        for (const inst of pool.instances) {
          const same = old.instances.find((o) => o.base === inst.base);
          if (same) pool.instances[pool.instances.indexOf(inst)] = same;
        }
      }
      this.pools.set(name, pool);
    }
    this.routes = config.routes
      .map((r) => ({ config: r, methods: r.methods ? new Set(r.methods) : undefined }))
      .sort((a, b) => b.config.prefix.length - a.config.prefix.length);
  }

  match(method: string, url: string): CompiledRoute | undefined {
    for (const r of this.routes) {
      const p = r.config.prefix;
      // A prefix matches at a path-segment boundary: /api/v1/orders matches /api/v1/orders/7 and
      // /api/v1/orders?x, not /api/v1/ordersX.
      if (url.startsWith(p)) {
        const next = url.charCodeAt(p.length);
        if (url.length === p.length || p.endsWith('/') || next === 47 /* / */ || next === 63 /* ? */) {
          if (!r.methods || r.methods.has(method)) return r;
        }
      }
    }
    return undefined;
  }

  start(): void {
    for (const p of this.pools.values()) p.startHealthChecks();
  }

  stop(): void {
    for (const p of this.pools.values()) p.stop();
  }
}
