// The two per-request series of /metrics, proxy_requests_total and proxy_request_duration_seconds,
// kept in plain numbers per route and side and handed to prom-client's registry as two metrics of
// its own shape (lib/metrics/plain-metrics.ts). prom-client's label children validate and hash their
// labels on every inc() and observe(): in a CPU profile of the proxy under load that was ~4% of its
// busy time for two calls per request. Here a request costs one Map lookup by route name and a few
// additions; the label sets are built only when /metrics is scraped.
import type { Registry } from 'prom-client';
import { PlainHistogram, registerPlainMetric, type Value } from '../../lib/metrics/plain-metrics.ts';

/** Upper bounds (seconds) of the duration histogram's buckets. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;
const CODES = ['2xx', '3xx', '4xx', '5xx'] as const;

/** One side of one route: requests per status class, and the duration histogram. */
class SideFigures {
  /** Requests per status class, in CODES order; a class is exported once it has been seen. */
  readonly codes = [0, 0, 0, 0];
  readonly duration = new PlainHistogram(DURATION_BUCKETS);

  record(status: number, seconds: number): void {
    this.codes[status >= 500 ? 3 : status >= 400 ? 2 : status >= 300 ? 1 : 0]!++;
    this.duration.observe(seconds);
  }
}

interface RouteFigures {
  old: SideFigures | undefined;
  new: SideFigures | undefined;
}

export class RequestFigures {
  /** Routes in the order they were first seen (the order of the exported series). */
  private readonly routes = new Map<string, RouteFigures>();

  constructor(registry: Registry) {
    const reset = () => this.routes.clear();
    registerPlainMetric(registry, { name: 'proxy_requests_total', help: 'Requests answered, per route, side and status class', type: 'counter', values: () => this.requestValues(), reset });
    registerPlainMetric(registry, { name: 'proxy_request_duration_seconds', help: 'Time from request to upstream response end, per route and side', type: 'histogram', values: () => this.durationValues(), reset });
  }

  /** Hot path: one answered request. */
  record(route: string, side: string, status: number, seconds: number): void {
    let r = this.routes.get(route);
    if (!r) this.routes.set(route, (r = { old: undefined, new: undefined }));
    const key = side === 'new' ? 'new' : 'old';
    (r[key] ??= new SideFigures()).record(status, seconds);
  }

  /** Every series, as prom-client would export them (label sets built here, at scrape time). */
  private *series(): Generator<[string, string, SideFigures]> {
    for (const [route, r] of this.routes) {
      if (r.old) yield [route, 'old', r.old];
      if (r.new) yield [route, 'new', r.new];
    }
  }

  private requestValues(): Value[] {
    const out: Value[] = [];
    for (const [route, side, f] of this.series()) {
      for (let c = 0; c < CODES.length; c++) if (f.codes[c]) out.push({ value: f.codes[c]!, labels: { route, side, code: CODES[c]! } });
    }
    return out;
  }

  private durationValues(): Value[] {
    const out: Value[] = [];
    for (const [route, side, f] of this.series()) f.duration.exportTo(out, 'proxy_request_duration_seconds', { route, side });
    return out;
  }
}
