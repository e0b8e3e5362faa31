// The two per-request series of /metrics, proxy_requests_total and proxy_request_duration_seconds,
// kept in plain numbers per route and side and handed to prom-client's registry as two metrics of
// its own shape. prom-client's label children validate and hash their labels on every inc() and
// observe(), even when the child is cached: in a CPU profile of the proxy under load that was ~4%
// of its busy time for two calls per request. Here a request costs one Map lookup by route name
// and a few additions; the label sets are built only when /metrics is scraped.
import type { Registry } from 'prom-client';

/** Upper bounds (seconds) of the duration histogram's buckets. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;
const CODES = ['2xx', '3xx', '4xx', '5xx'] as const;

/** One side of one route: requests per status class, and the duration histogram. */
class SideFigures {
  /** Requests per status class, in CODES order; a class is exported once it has been seen. */
  readonly codes = [0, 0, 0, 0];
  /** Observations per bucket (not cumulative); the last slot is above the largest bound. */
  readonly buckets = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
  sum = 0;
  count = 0;

  record(status: number, seconds: number): void {
    const c = status >= 500 ? 3 : status >= 400 ? 2 : status >= 300 ? 1 : 0;
    this.codes[c]!++;
    let b = 0;
    while (b < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[b]!) b++;
    this.buckets[b]!++;
    this.sum += seconds;
    this.count++;
  }
}

interface RouteFigures {
  old: SideFigures | undefined;
  new: SideFigures | undefined;
}

type Labels = Record<string, string | number>;
interface Value {
  value: number;
  labels: Labels;
  metricName?: string;
}

export class RequestFigures {
  /** Routes in the order they were first seen (the order of the exported series). */
  private readonly routes = new Map<string, RouteFigures>();

  constructor(registry: Registry) {
    registry.registerMetric(this.metric('proxy_requests_total', 'Requests answered, per route, side and status class', 'counter', () => this.requestValues()) as never);
    registry.registerMetric(this.metric('proxy_request_duration_seconds', 'Time from request to upstream response end, per route and side', 'histogram', () => this.durationValues()) as never);
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
    const bucket = 'proxy_request_duration_seconds_bucket';
    // `le` first, as prom-client writes it.
    for (const [route, side, f] of this.series()) {
      let acc = 0;
      for (let b = 0; b < DURATION_BUCKETS.length; b++) {
        acc += f.buckets[b]!;
        out.push({ metricName: bucket, value: acc, labels: { le: DURATION_BUCKETS[b]!, route, side } });
      }
      out.push({ metricName: bucket, value: f.count, labels: { le: '+Inf', route, side } });
      out.push({ metricName: 'proxy_request_duration_seconds_sum', value: f.sum, labels: { route, side } });
      out.push({ metricName: 'proxy_request_duration_seconds_count', value: f.count, labels: { route, side } });
    }
    return out;
  }

  /** What prom-client's Registry reads from a metric: its name, help, type and values. */
  private metric(name: string, help: string, type: 'counter' | 'histogram', values: () => Value[]) {
    return {
      name,
      help,
      type,
      aggregator: 'sum' as const,
      get: async () => ({ name, help, type, values: values(), aggregator: 'sum' as const }),
      reset: () => this.routes.clear(),
    };
  }
}
