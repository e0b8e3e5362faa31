// The proxy's own /metrics. One registry per proxy instance (tests run several in one process).
// The two series every request touches are kept outside prom-client's label machinery
// (request-figures.ts); the rest change rarely and use prom-client as is.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { RequestFigures } from './request-figures.ts';

export class ProxyMetrics {
  readonly registry = new Registry();
  /** proxy_requests_total and proxy_request_duration_seconds (request-figures.ts). */
  private readonly figures = new RequestFigures(this.registry);
  readonly upstreamErrors = new Counter({
    name: 'proxy_upstream_errors_total',
    help: 'Upstream failures (connect errors, resets, timeouts, 502/503/504), per route and side',
    labelNames: ['route', 'side', 'kind'] as const,
    registers: [this.registry],
  });
  readonly fallbacks = new Counter({
    name: 'proxy_fallbacks_total',
    help: 'Requests retried on the other side after the chosen side failed',
    labelNames: ['route', 'from', 'to'] as const,
    registers: [this.registry],
  });
  readonly refusedRetries = new Counter({
    name: 'proxy_refused_connection_retries_total',
    help: 'Requests of any method sent again because a connection was refused (nothing reached the upstream), per route, side and where to',
    labelNames: ['route', 'side', 'to'] as const,
    registers: [this.registry],
  });
  readonly shadow = new Counter({
    name: 'proxy_shadow_comparisons_total',
    help: 'Shadow comparisons, per route and result (match, mismatch, error)',
    labelNames: ['route', 'result'] as const,
    registers: [this.registry],
  });
  readonly shadowMatchRatio = new Gauge({
    name: 'proxy_shadow_match_ratio',
    help: 'Share of shadow comparisons that matched since start, per route',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly canaryState = new Gauge({
    name: 'proxy_canary_state',
    help: 'Canary state per route: 0 none, 1 running, 2 completed, 3 rolled back, 4 aborted, 5 paused',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly routeWeight = new Gauge({
    name: 'proxy_route_weight',
    help: 'Share (0–100) of users sent to the new side, per route',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'proxy_rate_limited_total',
    help: 'Requests refused with 429',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: 'proxy_config_reloads_total',
    help: 'Config reloads, per result (applied, rejected)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly instanceHealthy = new Gauge({
    name: 'proxy_upstream_healthy',
    help: '1 if the upstream instance is in rotation, 0 if taken out',
    // `upstream`, not `instance`: Prometheus sets `instance` to the scraped proxy itself.
    labelNames: ['pool', 'upstream'] as const,
    registers: [this.registry],
  });

  constructor(defaults = true) {
    // The process metrics under the proxy's own prefix (proxy_process_cpu_seconds_total,
    // proxy_nodejs_heap_size_used_bytes...), without the three gauges named *_total that
    // `promtool check metrics` flags (_total is for counters; the per-type gauges hold the same).
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'proxy_' });
    for (const n of ['handles', 'requests', 'resources']) this.registry.removeSingleMetric(`proxy_nodejs_active_${n}_total`);
  }

  observe(route: string, side: string, status: number, seconds: number): void {
    this.figures.record(route, side, status, seconds);
  }
}
