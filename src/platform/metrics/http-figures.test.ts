// The per-request HTTP series kept outside prom-client's label machinery export exactly what
// prom-client's own Counter, Histogram and Gauge would for the same requests.
import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { HttpFigures } from './http-figures.ts';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const requests: [string, string, number, number][] = [
  ['GET', '/api/v1/products/:sku', 200, 0.0004],
  ['POST', '/api/v1/orders', 201, 0.001], // on a bound: counted in that bucket (le is inclusive)
  ['GET', '/api/v1/products/:sku', 404, 0.03],
  ['GET', 'unmatched', 400, 7], // above every bound: only +Inf
  ['GET', '/health/ready', 503, 0.0025],
  ['GET', '/a "quoted"\\route\nnext', 500, 0.2],
  ['GET', '/api/v1/products/:sku', 200, 0.75],
];

/** prom-client's own metrics, fed the same requests: the reference output. */
function reference(inFlight: number) {
  const registry = new Registry();
  registry.setDefaultLabels({ deployable: 'monolith' });
  const counter = new Counter({ name: 'http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const histogram = new Histogram({ name: 'http_request_duration_seconds', help: 'HTTP request latency by route', labelNames: ['method', 'route', 'status'], buckets: BUCKETS, registers: [registry] });
  const gauge = new Gauge({ name: 'http_requests_in_flight', help: 'Requests received and not yet answered', registers: [registry] });
  for (const [method, route, status, seconds] of requests) {
    const labels = { method, route, status: String(status) };
    counter.inc(labels);
    histogram.observe(labels, seconds);
  }
  gauge.inc(inFlight);
  return registry;
}

function ours(inFlight: number) {
  const registry = new Registry();
  registry.setDefaultLabels({ deployable: 'monolith' });
  const figures = new HttpFigures(registry, BUCKETS);
  for (const [method, route, status, seconds] of requests) figures.record(method, route, status, seconds);
  figures.inFlight = inFlight;
  return { registry, figures };
}

describe('HTTP figures', () => {
  it('expose on /metrics byte for byte what prom-client’s Counter, Histogram and Gauge would for the same requests', async () => {
    const expected = await reference(2).metrics();
    const actual = await ours(2).registry.metrics();
    expect(actual).toBe(expected);
    expect(actual).toContain('http_requests_total{method="GET",route="/api/v1/products/:sku",status="200",deployable="monolith"} 2');
  });

  it('give the same JSON as prom-client (exemplars aside: these series keep none)', async () => {
    const withoutExemplars = (metrics: unknown) => JSON.parse(JSON.stringify(metrics, (k, v) => (k === 'exemplar' ? undefined : v)));
    expect(withoutExemplars(await ours(1).registry.getMetricsAsJSON())).toEqual(withoutExemplars(await reference(1).getMetricsAsJSON()));
  });

  it('start again from nothing when the registry is reset', async () => {
    const { registry, figures } = ours(3);
    registry.resetMetrics();
    const empty = reference(0);
    empty.resetMetrics();
    expect(await registry.metrics()).toBe(await empty.metrics());
    figures.record('GET', '/api/v1/products/:sku', 200, 0.01);
    expect(await registry.metrics()).toContain('http_requests_total{method="GET",route="/api/v1/products/:sku",status="200",deployable="monolith"} 1');
  });
});
