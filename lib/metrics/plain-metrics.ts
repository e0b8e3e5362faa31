// Counters and histograms kept in plain numbers on the hot path and handed to a prom-client
// Registry as metrics of its own shape, read only when /metrics is scraped. prom-client's labelled
// children validate and hash their label values on every inc() and observe(), even when the child
// is cached; a request here costs a Map lookup and a few additions. The exported text is what
// prom-client's own Counter, Gauge and Histogram write for the same observations (each user's test
// compares the two). Used by the kernel's HTTP series and the proxy's request series.
import type { Registry } from 'prom-client';

export type Labels = Record<string, string | number>;

/** A value as prom-client's metrics give them to the registry. */
export interface Value {
  value: number;
  labels: Labels;
  /** A histogram's series labels, kept apart from `le` as prom-client's Histogram does. */
  sharedLabels?: Labels;
  metricName?: string;
}

/** One series of a histogram: observations per bucket (not cumulative; the last slot is above the largest bound), sum and count. */
export class PlainHistogram {
  readonly buckets: number[];
  sum = 0;
  count = 0;
  private readonly bounds: readonly number[];
  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.buckets = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let b = 0;
    // A value on a bound belongs to that bucket (le is inclusive), as prom-client counts it.
    while (b < bounds.length && value > bounds[b]!) b++;
    this.buckets[b]!++;
    this.sum += value;
    this.count++;
  }

  /** Appends this series' bucket, sum and count values of histogram `name`, labelled `labels`. */
  exportTo(out: Value[], name: string, labels: Labels): void {
    let acc = 0;
    for (let b = 0; b < this.bounds.length; b++) {
      acc += this.buckets[b]!;
      out.push({ metricName: `${name}_bucket`, value: acc, labels: { le: this.bounds[b]! }, sharedLabels: labels });
    }
    out.push({ metricName: `${name}_bucket`, value: this.count, labels: { le: '+Inf' }, sharedLabels: labels });
    out.push({ metricName: `${name}_sum`, value: this.sum, labels: {}, sharedLabels: labels });
    out.push({ metricName: `${name}_count`, value: this.count, labels: {}, sharedLabels: labels });
  }
}

/** Registers a metric whose values `values` builds at scrape time; `reset` is what registry.resetMetrics() does to it. */
export function registerPlainMetric(
  registry: Registry,
  o: { name: string; help: string; type: 'counter' | 'gauge' | 'histogram'; values: () => Value[]; reset: () => void },
): void {
  const { name, help, type } = o;
  const data = () => ({ name, help, type, values: o.values(), aggregator: 'sum' as const });
  registry.registerMetric({
    name,
    help,
    type,
    aggregator: 'sum',
    // The text exposition keeps a histogram's series labels apart from `le` (prom-client's order).
    getForPromString: async () => data(),
    // JSON (and cluster aggregation) wants each value's labels in one object, as prom-client's get() gives them.
    get: async () => {
      const d = data();
      return { ...d, values: d.values.map(({ sharedLabels, labels, ...v }) => ({ ...v, labels: { ...labels, ...sharedLabels } })) };
    },
    reset: o.reset,
  } as never);
}
