// The proxy's own /metrics. One registry per proxy instance (tests run several in one process).
// Label children are cached because prom-client hashes labels on every `.labels()` call, which shows
// up on the hot path at tens of thousands of requests per second.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'proxy_requests_total',
    help: 'Requests answered, per route, side and status class',
    labelNames: ['route', 'side', 'code'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'proxy_request_duration_seconds',
    help: 'Time from request to upstream response end, per route and side',
    labelNames: ['route', 'side'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
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
    help: 'Canary state per route: 0 none, 1 running, 2 completed, 3 rolled back, 4 aborted',
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

  private readonly reqChildren = new Map<string, { inc(): void }>();
  private readonly durChildren = new Map<string, { observe(v: number): void }>();

  constructor(defaults = true) {
    // The process metrics under the proxy's own prefix (proxy_process_cpu_seconds_total,
    // proxy_nodejs_heap_size_used_bytes...), without the three gauges named *_total that
    // `promtool check metrics` flags (_total is for counters; the per-type gauges hold the same).
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'proxy_' });
    for (const n of ['handles', 'requests', 'resources']) this.registry.removeSingleMetric(`proxy_nodejs_active_${n}_total`);
  }

  observe(route: string, side: string, status: number, seconds: number): void {
    const code = status >= 500 ? '5xx' : status >= 400 ? '4xx' : status >= 300 ? '3xx' : '2xx';
    const rk = `${route}\0${side}\0${code}`;
    let r = this.reqChildren.get(rk);
    if (!r) this.reqChildren.set(rk, (r = this.requests.labels(route, side, code)));
    r.inc();
    const dk = `${route}\0${side}`;
    let d = this.durChildren.get(dk);
    if (!d) this.durChildren.set(dk, (d = this.duration.labels(route, side)));
    d.observe(seconds);
  }
}
