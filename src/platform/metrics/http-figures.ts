// The three series every HTTP request touches (http_requests_total, http_request_duration_seconds,
// http_requests_in_flight), kept in plain numbers and handed to prom-client's registry as metrics
// of its own shape (lib/metrics/plain-metrics.ts), so /metrics reads exactly as prom-client's own
// would: three labelled prom-client calls per request were a measurable share of the lookup's CPU.
import type { Registry } from 'prom-client';
import { PlainHistogram, registerPlainMetric, type Value } from '../../../lib/metrics/plain-metrics.ts';

/** One method, route and status: its count and its duration histogram. */
interface Series {
  readonly labels: { method: string; route: string; status: string };
  readonly duration: PlainHistogram;
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
    registerPlainMetric(registry, { name: 'http_requests_total', help: 'HTTP requests by route and status', type: 'counter', values: () => this.requestValues(), reset: () => this.series.clear() });
    registerPlainMetric(registry, { name: 'http_request_duration_seconds', help: 'HTTP request latency by route', type: 'histogram', values: () => this.durationValues(), reset: () => this.series.clear() });
    registerPlainMetric(registry, { name: 'http_requests_in_flight', help: 'Requests received and not yet answered', type: 'gauge', values: () => [{ value: this.inFlight, labels: {} }], reset: () => (this.inFlight = 0) });
  }

  /** Hot path: one answered request. */
  record(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels: { method, route, status: String(status) }, duration: new PlainHistogram(this.bounds) }));
    s.duration.observe(seconds);
  }

  private requestValues(): Value[] {
    const out: Value[] = [];
    for (const s of this.series.values()) out.push({ value: s.duration.count, labels: { ...s.labels } });
    return out;
  }

  private durationValues(): Value[] {
    const out: Value[] = [];
    for (const s of this.series.values()) s.duration.exportTo(out, 'http_request_duration_seconds', s.labels);
    return out;
  }
}
