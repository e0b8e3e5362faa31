import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from './prometheus-text.ts';

describe('reading Prometheus text', () => {
  it('reads names, labels with their escapes and values, and skips comments', () => {
    const text = [
      '# HELP bus_outbox_backlog Committed events not yet handed to the transport',
      '# TYPE bus_outbox_backlog gauge',
      'bus_outbox_backlog{module="orders",deployable="monolith"} 3',
      'contract_call_duration_seconds_bucket{le="+Inf",contract="payments",note="a \\"quoted\\" word, a \\\\ and a\\nline"} 12',
      'process_start_time_seconds 1764500000.5',
      '',
      'broken{module="x" 1',
    ].join('\n');
    expect(parsePrometheusText(text)).toEqual([
      { name: 'bus_outbox_backlog', labels: { module: 'orders', deployable: 'monolith' }, value: 3 },
      { name: 'contract_call_duration_seconds_bucket', labels: { le: '+Inf', contract: 'payments', note: 'a "quoted" word, a \\ and a\nline' }, value: 12 },
      { name: 'process_start_time_seconds', labels: {}, value: 1764500000.5 },
    ]);
  });
});
