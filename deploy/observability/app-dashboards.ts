// The dashboards of the app's deployables: the monolith, and any extracted service (one
// dashboard, a `deployable` picker over every `<module>-service`). Both run the same kernel and
// export the same metrics, told apart by the `deployable` label every series carries.
import { dashboard, type RowSpec } from './grafana.ts';

export const BREAKER_STATES = {
  0: { text: 'closed', color: 'green' },
  1: { text: 'open', color: 'red' },
  2: { text: 'half-open', color: 'orange' },
  3: { text: 'isolated', color: 'purple' },
};

const RATE = '$__rate_interval';
/** Probes and scrapes are not traffic. */
const NOT_PROBES = 'route!~"/health.*|/metrics"';

function appRows(d: string): RowSpec[] {
  return [
    {
      title: 'HTTP',
      panels: [
        {
          title: 'Requests by route',
          description: 'Requests per second per route pattern (probes and scrapes left out).',
          unit: 'reqps',
          queries: [{ expr: `sum by (route) (rate(http_requests_total{${d}, ${NOT_PROBES}}[${RATE}]))`, legend: '{{route}}' }],
        },
        {
          title: 'Error ratio',
          description: 'Share of answers that were 5xx (the service failed) and 4xx (the caller did).',
          unit: 'percentunit',
          thresholds: [0.01, 0.05],
          queries: [
            { expr: `sum(rate(http_requests_total{${d}, ${NOT_PROBES}, status=~"5.."}[${RATE}])) / sum(rate(http_requests_total{${d}, ${NOT_PROBES}}[${RATE}]))`, legend: '5xx' },
            { expr: `sum(rate(http_requests_total{${d}, ${NOT_PROBES}, status=~"4.."}[${RATE}])) / sum(rate(http_requests_total{${d}, ${NOT_PROBES}}[${RATE}]))`, legend: '4xx' },
          ],
        },
        {
          title: 'Latency',
          description: 'Median and 99th percentile of the time to answer, over every route.',
          unit: 's',
          queries: [
            { expr: `histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{${d}, ${NOT_PROBES}}[${RATE}])))`, legend: 'p50' },
            { expr: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${d}, ${NOT_PROBES}}[${RATE}])))`, legend: 'p99' },
          ],
        },
        {
          title: 'p99 latency by route',
          description: '99th percentile of the time to answer, per route pattern.',
          unit: 's',
          width: 16,
          queries: [{ expr: `histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{${d}, ${NOT_PROBES}}[${RATE}])))`, legend: '{{route}}' }],
        },
        {
          title: 'In flight',
          description: 'Requests received and not yet answered.',
          queries: [{ expr: `sum(http_requests_in_flight{${d}})`, legend: 'in flight' }],
        },
      ],
    },
    {
      title: 'Contracts',
      panels: [
        {
          title: 'Contract call p99',
          description: 'Calls to module contracts, in-process or over HTTP to another deployable.',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.99, sum by (le, contract, operation, binding) (rate(contract_call_duration_seconds_bucket{${d}}[${RATE}])))`,
              legend: '{{contract}}.{{operation}} ({{binding}})',
            },
          ],
        },
        {
          title: 'Contract call errors',
          description: 'Contract calls that ended in an error (a domain error or an unavailable callee).',
          unit: 'reqps',
          queries: [{ expr: `sum by (contract, operation) (rate(contract_call_duration_seconds_count{${d}, outcome="error"}[${RATE}]))`, legend: '{{contract}}.{{operation}}' }],
        },
        {
          title: 'Remote module circuit',
          description: 'Circuit breaker in front of each module this deployable calls over HTTP.',
          kind: 'state-timeline',
          states: BREAKER_STATES,
          queries: [{ expr: `max by (module) (contract_breaker_state{${d}})`, legend: '{{module}}' }],
        },
        {
          title: 'Remote calls refused',
          description: 'Remote calls refused without trying: the circuit was open or the bulkhead full.',
          unit: 'reqps',
          queries: [{ expr: `sum by (module, reason) (rate(contract_remote_rejections_total{${d}}[${RATE}]))`, legend: '{{module}} {{reason}}' }],
        },
        {
          title: 'Contract calls served p99',
          description: 'Time this deployable spent serving each contract call another deployable made (batched: the call came in a batch).',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.99, sum by (le, contract, operation, batched) (rate(contract_served_duration_seconds_bucket{${d}}[${RATE}])))`,
              legend: '{{contract}}.{{operation}} (batched {{batched}})',
            },
          ],
        },
      ],
    },
    {
      title: 'Events',
      panels: [
        {
          title: 'Outbox backlog',
          description: 'Committed events not yet handed to the transport. Growing without dispatches: the relay is stuck.',
          thresholds: [100, 1000],
          queries: [{ expr: `sum by (module) (bus_outbox_backlog{${d}})`, legend: '{{module}}' }],
        },
        {
          title: 'Events dispatched',
          description: 'Outbox rows handed to the transport per second.',
          unit: 'ops',
          queries: [{ expr: `sum by (module) (rate(bus_events_dispatched_total{${d}}[${RATE}]))`, legend: '{{module}}' }],
        },
        {
          title: 'Dead letters',
          description: 'Events a subscriber gave up on, not yet replayed (npm run dlq -- list).',
          kind: 'stat',
          thresholds: [1, 10],
          queries: [{ expr: `sum by (module) (bus_dead_letters{${d}})`, legend: '{{module}}' }],
        },
        {
          title: 'Events handled',
          description: 'Events taken by each subscriber: handled, duplicate (seen by the inbox) or dead-lettered.',
          unit: 'ops',
          queries: [{ expr: `sum by (subscriber, outcome) (rate(bus_events_handled_total{${d}}[${RATE}]))`, legend: '{{subscriber}} {{outcome}}' }],
        },
        {
          title: 'Handler failures',
          description: 'Handler attempts that threw (each is retried with backoff until it dead-letters).',
          unit: 'ops',
          queries: [{ expr: `sum by (subscriber, event) (rate(bus_handler_failures_total{${d}}[${RATE}]))`, legend: '{{subscriber}} {{event}}' }],
        },
        {
          title: 'Delivery lag p99',
          description: 'From the commit of the publishing transaction to the subscriber having handled the event.',
          unit: 's',
          queries: [{ expr: `histogram_quantile(0.99, sum by (le, subscriber) (rate(bus_delivery_lag_seconds_bucket{${d}}[${RATE}])))`, legend: '{{subscriber}}' }],
        },
      ],
    },
    {
      title: 'Resilience and sagas',
      panels: [
        {
          title: 'Dependency circuit',
          description: 'Circuit breaker per outside dependency (the payment provider).',
          kind: 'state-timeline',
          states: BREAKER_STATES,
          queries: [{ expr: `max by (dependency) (circuit_breaker_state{${d}})`, legend: '{{dependency}}' }],
        },
        {
          title: 'Circuit transitions',
          description: 'Circuit state changes per dependency and new state.',
          queries: [{ expr: `sum by (dependency, to) (increase(circuit_breaker_transitions_total{${d}}[${RATE}]))`, legend: '{{dependency}} → {{to}}' }],
        },
        {
          title: 'Order sagas finished',
          description: 'Order sagas ended, by outcome and cancellation reason (where orders runs).',
          unit: 'ops',
          queries: [{ expr: `sum by (outcome, reason) (rate(order_sagas_finished_total{${d}}[${RATE}]))`, legend: '{{outcome}} {{reason}}' }],
        },
        {
          title: 'Saga step retries',
          description: 'Saga steps put off for a retry because a dependency was unavailable.',
          unit: 'ops',
          queries: [{ expr: `sum by (step) (rate(order_saga_step_retries_total{${d}}[${RATE}]))`, legend: '{{step}}' }],
        },
        {
          title: 'Sagas parked (24 h)',
          description: 'Times a saga was parked (a compensation refused; it waits for an operator) over the last day. A saga that stays parked is retried and counted again every hour.',
          kind: 'stat',
          thresholds: [1, 5],
          queries: [{ expr: `sum(increase(order_sagas_parked_total{${d}}[24h]))`, legend: 'parked' }],
        },
      ],
    },
    {
      title: 'Process',
      panels: [
        {
          title: 'CPU',
          description: 'CPU time per second (1 = one core busy).',
          unit: 'percentunit',
          queries: [{ expr: `sum by (instance) (rate(process_cpu_seconds_total{${d}}[${RATE}]))`, legend: '{{instance}}' }],
        },
        {
          title: 'Memory',
          description: 'Resident memory and V8 heap in use.',
          unit: 'bytes',
          queries: [
            { expr: `sum by (instance) (process_resident_memory_bytes{${d}})`, legend: 'rss {{instance}}' },
            { expr: `sum by (instance) (nodejs_heap_size_used_bytes{${d}})`, legend: 'heap {{instance}}' },
          ],
        },
        {
          title: 'Event loop lag p99',
          description: 'How late the event loop runs callbacks: high values delay every request.',
          unit: 's',
          queries: [{ expr: `max by (instance) (nodejs_eventloop_lag_p99_seconds{${d}})`, legend: '{{instance}}' }],
        },
      ],
    },
  ];
}

export function monolithDashboard(): Record<string, unknown> {
  return dashboard({
    uid: 'strangler-monolith',
    title: 'Monolith',
    description: 'The monolith: HTTP, contract calls, events, resilience, the order saga and the process.',
    tags: ['strangler', 'monolith'],
    variables: [],
    rows: appRows('deployable="monolith"'),
  });
}

export function serviceDashboard(): Record<string, unknown> {
  return dashboard({
    uid: 'strangler-service',
    title: 'Extracted service',
    description: 'One extracted module running as its own deployable (`npm run service -- <module>`): pick it above.',
    tags: ['strangler', 'service'],
    variables: [{ name: 'deployable', label: 'Service', query: 'label_values(http_requests_total{deployable=~".+-service"}, deployable)' }],
    rows: appRows('deployable="$deployable"'),
  });
}
