// The three series every HTTP request touches (http_requests_total, http_request_duration_seconds,
// http_requests_in_flight), kept in plain numbers and handed to prom-client's registry as metrics
// of its own shape, so /metrics reads exactly as before. prom-client's labelled children validate
// and hash their label values on every inc() and observe(), even when the child is cached: three
// calls per request. Here a request costs one Map lookup and a few additions; the label sets are
// built when /metrics is scraped.
import type { Registry } from 'prom-client';

type Labels = Record<string, string | number>;
interface Value {
  value: number;
  labels: Labels;
  sharedLabels?: Labels;
  metricName?: string;
}

/** One method, route and status: its count and its duration histogram. */
class Series {
  /** Observations per bucket (not cumulative); the last slot is above the largest bound. */
  readonly buckets: number[];
  readonly labels: { method: string; route: string; status: string };
  sum = 0;
  count = 0;
  constructor(labels: { method: string; route: string; status: string }, bounds: number) {
    this.labels = labels;
    this.buckets = new Array<number>(bounds + 1).fill(0);
  }
}

export class HttpFigures {
  /** Requests received and not yet answered (or abandoned). */
  inFlight = 0;
  /** By method, route and status, in the order first seen (the order of the exported series). */
  private readonly series = new Map<string, Series>();
  /** Upper bounds (seconds) of the duration histogram's buckets, ascending. */
  private readonly bounds: readonly number[];

  constructor(registry: Registry, bounds: readonly number[]) {
    this.bounds = bounds;
    registry.registerMetric(this.metric('http_requests_total', 'HTTP requests by route and status', 'counter', () => this.requestValues()) as never);
    registry.registerMetric(this.metric('http_request_duration_seconds', 'HTTP request latency by route', 'histogram', () => this.durationValues()) as never);
    registry.registerMetric(this.metric('http_requests_in_flight', 'Requests received and not yet answered', 'gauge', () => [{ value: this.inFlight, labels: {} }]) as never);
  }

  /** Hot path: one answered request. */
  record(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = new Series({ method, route, status: String(status) }, this.bounds.length)));
    const bounds = this.bounds;
    let b = 0;
    // A value on a bound belongs to that bucket (le is inclusive), as prom-client counts it.
    while (b < bounds.length && seconds > bounds[b]!) b++;
    s.buckets[b]!++;
    s.sum += seconds;
    s.count++;
  }

  private requestValues(): Value[] {
    const out: Value[] = [];
    for (const s of this.series.values()) out.push({ value: s.count, labels: { ...s.labels } });
    return out;
  }

  /** As prom-client's Histogram gives them to the registry: `le` as the label, the series' labels shared. */
  private durationValues(): Value[] {
    const out: Value[] = [];
    const bucket = 'http_request_duration_seconds_bucket';
    for (const s of this.series.values()) {
      let acc = 0;
      for (let b = 0; b < this.bounds.length; b++) {
        acc += s.buckets[b]!;
        out.push({ metricName: bucket, value: acc, labels: { le: this.bounds[b]! }, sharedLabels: s.labels });
      }
      out.push({ metricName: bucket, value: s.count, labels: { le: '+Inf' }, sharedLabels: s.labels });
      out.push({ metricName: 'http_request_duration_seconds_sum', value: s.sum, labels: {}, sharedLabels: s.labels });
      out.push({ metricName: 'http_request_duration_seconds_count', value: s.count, labels: {}, sharedLabels: s.labels });
    }
    return out;
  }

  /** What prom-client's Registry reads from a metric: its name, help, type and values. */
  private metric(name: string, help: string, type: 'counter' | 'histogram' | 'gauge', values: () => Value[]) {
    const data = () => ({ name, help, type, values: values(), aggregator: 'sum' as const });
    return {
      name,
      help,
      type,
      aggregator: 'sum' as const,
      // The text exposition keeps a histogram's series labels apart from `le` (prom-client's order).
      getForPromString: async () => data(),
      // JSON (and cluster aggregation) wants each value's labels in one object, as prom-client's get() gives them.
      get: async () => {
        const d = data();
        return { ...d, values: d.values.map(({ sharedLabels, labels, ...v }) => ({ ...v, labels: { ...labels, ...sharedLabels } })) };
      },
      reset: () => {
        if (type === 'gauge') this.inFlight = 0;
        else this.series.clear();
      },
    };
  }
}
