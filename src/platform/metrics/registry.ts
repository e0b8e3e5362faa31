// One Prometheus registry per running app, so two apps in one test process never share counters.
import { Counter, Histogram, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { HttpFigures } from './http-figures.ts';

export interface Metrics {
  registry: Registry;
  /** http_requests_total, http_request_duration_seconds and http_requests_in_flight (by method, route, status). */
  http: HttpFigures;
  contractCalls: Histogram<'contract' | 'operation' | 'binding' | 'outcome'>;
  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L>;
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[], collect?: (this: Gauge<L>) => void | Promise<void>): Gauge<L>;
  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets?: number[]): Histogram<L>;
}

export function createMetrics(defaultLabels: Record<string, string> = {}): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels(defaultLabels);
  collectDefaultMetrics({ register: registry });
  // prom-client's defaults include three gauges named *_total (the sums of nodejs_active_handles,
  // _requests and _resources, which carry the same numbers per type). Prometheus keeps _total for
  // counters and `promtool check metrics` flags them, so they are left out.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], collect?: (this: Gauge<L>) => void | Promise<void>) =>
    new Gauge<L>({ name, help, labelNames, registers: [registry], ...(collect ? { collect } : {}) });
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets = latencyBuckets) =>
    new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });
  return {
    registry,
    http: new HttpFigures(registry, latencyBuckets),
    contractCalls: histogram('contract_call_duration_seconds', 'Contract call latency by binding', ['contract', 'operation', 'binding', 'outcome']),
    counter,
    gauge,
    histogram,
  };
}
