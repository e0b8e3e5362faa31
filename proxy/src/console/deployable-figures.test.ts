import { describe, expect, it } from 'vitest';
import { figuresOf, quantileMs } from './deployable-figures.ts';
import { parsePrometheusText } from './prometheus-text.ts';

const scrape = (at: number, lines: string[]) => ({ at, samples: parsePrometheusText(lines.join('\n')) });
const calls = (ok: number, errors: number, fast: number) => [
  `contract_call_duration_seconds_bucket{le="0.01",deployable="monolith",contract="payments",operation="authorize",binding="remote",outcome="ok"} ${fast}`,
  `contract_call_duration_seconds_bucket{le="0.1",deployable="monolith",contract="payments",operation="authorize",binding="remote",outcome="ok"} ${ok}`,
  `contract_call_duration_seconds_bucket{le="+Inf",deployable="monolith",contract="payments",operation="authorize",binding="remote",outcome="ok"} ${ok}`,
  `contract_call_duration_seconds_count{deployable="monolith",contract="payments",operation="authorize",binding="remote",outcome="ok"} ${ok}`,
  `contract_call_duration_seconds_bucket{le="0.01",deployable="monolith",contract="payments",operation="authorize",binding="remote",outcome="error"} 0`,
  `contract_call_duration_seconds_bucket{le="0.1",deployable="monolith",contract="payments",operation="authorize",binding="remote",outcome="error"} ${errors}`,
  `contract_call_duration_seconds_bucket{le="+Inf",deployable="monolith",contract="payments",operation="authorize",binding="remote",outcome="error"} ${errors}`,
  `contract_call_duration_seconds_count{deployable="monolith",contract="payments",operation="authorize",binding="remote",outcome="error"} ${errors}`,
];

describe('a deployable’s figures from two scrapes', () => {
  it('turns counters into a rate, an error rate and a p99 over the window between the scrapes', () => {
    const baseline = scrape(0, calls(100, 0, 100));
    const current = scrape(10_000, [
      ...calls(190, 10, 100),
      'bus_outbox_backlog{module="orders",deployable="monolith"} 4',
      'bus_outbox_backlog{module="payments",deployable="monolith"} 0',
      'bus_dead_letters{module="orders",deployable="monolith"} 2',
      'contract_breaker_state{module="payments",deployable="monolith"} 1',
      'circuit_breaker_state{dependency="payment-provider",partition="tok_fail",deployable="monolith"} 2',
      'order_sagas_parked_total{step="release-stock",deployable="monolith"} 1',
    ]);
    const f = figuresOf({ url: 'http://m', readiness: { status: 'ready', checks: {} }, current, baseline })!;
    expect(f.deployable).toBe('monolith');
    expect(f.hosts).toEqual(['orders', 'payments']);
    // 100 calls in 10 s, 10 of them errors; every one of them slower than 10 ms.
    expect(f.calls).toEqual([{ contract: 'payments', operation: 'authorize', binding: 'remote', caller: 'monolith', calls: 100, sinceStart: 200, windowSeconds: 10, perSecond: 10, errorRate: 0.1, p99Ms: 99.1 }]);
    expect(f.breakers).toEqual([
      { target: 'payments', state: 'open' },
      { target: 'payment-provider / tok_fail', state: 'half-open' },
    ]);
    expect(f.outboxBacklog).toEqual({ orders: 4, payments: 0 });
    expect(f.deadLetters).toEqual({ orders: 2 });
    expect(f.parkedSagas).toEqual({ 'release-stock': 1 });
  });

  it('counts from zero when a counter went down (the process restarted)', () => {
    const f = figuresOf({ url: 'http://m', readiness: { status: 'ready', checks: {} }, current: scrape(5000, calls(5, 0, 5)), baseline: scrape(0, calls(100, 0, 100)) })!;
    expect(f.calls[0]).toMatchObject({ calls: 5, perSecond: 1, errorRate: 0 });
  });

  it('has no figures when /metrics could not be read', () => {
    expect(figuresOf({ url: 'http://m', readiness: { status: 'unreachable', detail: 'ECONNREFUSED' }, current: undefined, baseline: undefined, metricsError: 'ECONNREFUSED' })).toBeUndefined();
  });

  it('interpolates a quantile inside its bucket, as histogram_quantile does', () => {
    expect(quantileMs(new Map([[0.01, 50], [0.1, 100], [Number.POSITIVE_INFINITY, 100]]), 0.5)).toBe(10);
    expect(quantileMs(new Map([[0.01, 0], [0.1, 100], [Number.POSITIVE_INFINITY, 100]]), 0.99)).toBe(99.1);
    expect(quantileMs(new Map([[0.1, 0], [Number.POSITIVE_INFINITY, 4]]), 0.99)).toBe(100);
    expect(quantileMs(new Map(), 0.99)).toBeNull();
  });
});
