import type { Counter, Histogram } from 'prom-client';
import type { Metrics } from '../metrics/registry.ts';

export interface BusMetrics {
  handled: Counter<'subscriber' | 'event' | 'outcome'>;
  failures: Counter<'subscriber' | 'event'>;
  dispatched: Counter<'module'>;
  lag: Histogram<'subscriber' | 'event'>;
}

export function busMetrics(m: Metrics): BusMetrics {
  return {
    handled: m.counter('bus_events_handled_total', 'Events taken by a subscriber: handled, duplicate (inbox) or dead_lettered', ['subscriber', 'event', 'outcome']),
    failures: m.counter('bus_handler_failures_total', 'Handler attempts that threw', ['subscriber', 'event']),
    dispatched: m.counter('bus_events_dispatched_total', 'Outbox rows handed to the transport', ['module']),
    lag: m.histogram('bus_delivery_lag_seconds', 'From commit of the publishing transaction to handled', ['subscriber', 'event'], [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]),
  };
}
