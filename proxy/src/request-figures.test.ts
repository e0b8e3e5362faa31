// The per-request series kept outside prom-client's label machinery export exactly what prom-client's
// own Counter and Histogram would for the same requests.
import { describe, expect, it } from 'vitest';
import { Counter, Histogram, Registry } from 'prom-client';
import { DURATION_BUCKETS, RequestFigures } from './request-figures.ts';

const requests: [string, string, number, number][] = [
  ['orders', 'old', 200, 0.0004],
  ['orders', 'new', 201, 0.001], // on a bound: counted in that bucket (le is inclusive)
  ['orders', 'old', 502, 0.03],
  ['(default)', 'old', 404, 7], // above every bound: only +Inf
  ['orders', 'new', 304, 0.0025],
  ['a "quoted"\\route', 'new', 500, 0.2],
  ['orders', 'old', 200, 0.75],
];

/** prom-client's own metrics, fed the same requests: the reference output. */
async function reference(): Promise<string> {
  const registry = new Registry();
  const counter = new Counter({ name: 'proxy_requests_total', help: 'Requests answered, per route, side and status class', labelNames: ['route', 'side', 'code'], registers: [registry] });
  const histogram = new Histogram({
    name: 'proxy_request_duration_seconds',
    help: 'Time from request to upstream response end, per route and side',
    labelNames: ['route', 'side'],
    buckets: [...DURATION_BUCKETS],
    registers: [registry],
  });
  for (const [route, side, status, seconds] of requests) {
    const code = status >= 500 ? '5xx' : status >= 400 ? '4xx' : status >= 300 ? '3xx' : '2xx';
    counter.labels(route, side, code).inc();
    histogram.labels(route, side).observe(seconds);
  }
  return registry.metrics();
}

const lines = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#')).sort();

describe('request figures', () => {
  it('export the same series and values as prom-client for the same requests', async () => {
    const registry = new Registry();
    const figures = new RequestFigures(registry);
    for (const [route, side, status, seconds] of requests) figures.record(route, side, status, seconds);
    const ours = await registry.metrics();
    const theirs = await reference();
    expect(lines(ours)).toEqual(lines(theirs));
    expect(ours).toContain('# TYPE proxy_requests_total counter');
    expect(ours).toContain('# TYPE proxy_request_duration_seconds histogram');
  });

  it('start again from nothing when the registry is reset', async () => {
    const registry = new Registry();
    const figures = new RequestFigures(registry);
    figures.record('orders', 'old', 200, 0.01);
    registry.resetMetrics();
    expect(lines(await registry.metrics())).toEqual([]);
    figures.record('orders', 'new', 200, 0.01);
    expect(await registry.metrics()).toContain('proxy_requests_total{route="orders",side="new",code="2xx"} 1');
  });
});
