import { describe, expect, it } from 'vitest';
import { metricNames, withoutGrafanaVariables } from './observability-files.ts';

// The name extraction decides whether a renamed metric is noticed, so it is tested on its own.
describe('metric names read by a PromQL expression', () => {
  it('finds the metric of a rate, not the function, the labels or the range', () => {
    expect(metricNames('sum by (route) (rate(http_requests_total{deployable="monolith", route!~"/health.*"}[5m]))')).toEqual(['http_requests_total']);
  });

  it('finds both sides of a ratio and of set operators, and skips keywords and numbers', () => {
    const expr = 'max by (module) (bus_outbox_backlog) > 0 unless on (module) sum by (module) (rate(bus_events_dispatched_total[5m])) > 0.5e1';
    expect(metricNames(expr).sort()).toEqual(['bus_events_dispatched_total', 'bus_outbox_backlog']);
  });

  it('finds a histogram bucket inside histogram_quantile and a metric after offset', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le) (rate(proxy_request_duration_seconds_bucket[5m])))')).toEqual(['proxy_request_duration_seconds_bucket']);
    expect(metricNames('order_sagas_parked_total unless order_sagas_parked_total offset 2h')).toEqual(['order_sagas_parked_total']);
  });

  it('reads a dashboard query once its Grafana variables are replaced', () => {
    const expr = withoutGrafanaVariables('sum by (side) (rate(proxy_requests_total{route="$route", instance=~"${instance:regex}"}[$__rate_interval]))');
    expect(expr).toBe('sum by (side) (rate(proxy_requests_total{route="x", instance=~"x"}[5m]))');
    expect(metricNames(expr)).toEqual(['proxy_requests_total']);
  });
});
