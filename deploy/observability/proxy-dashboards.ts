// The strangler proxy's dashboards: the proxy as a deployable (every route, its upstreams, its
// process), and a migration view with one row per route showing what an operator shifting
// traffic watches: the weight, each side's traffic, errors and p99, fallbacks, the shadow match
// rate and the canary's state.
import { dashboard, type RowSpec } from './grafana.ts';

export const CANARY_STATES = {
  0: { text: 'no canary', color: 'text' },
  1: { text: 'running', color: 'blue' },
  2: { text: 'completed', color: 'green' },
  3: { text: 'rolled back', color: 'red' },
  4: { text: 'aborted', color: 'orange' },
  5: { text: 'paused', color: 'purple' },
};

const RATE = '$__rate_interval';
const I = 'instance=~"$instance"';
const instanceVariable = { name: 'instance', label: 'Proxy instance', query: 'label_values(proxy_requests_total, instance)', multi: true, includeAll: true };

function proxyRows(): RowSpec[] {
  return [
    {
      title: 'Traffic',
      panels: [
        {
          title: 'Requests by route and side',
          description: 'Requests answered per second; side old is the monolith, new the extracted service.',
          unit: 'reqps',
          queries: [{ expr: `sum by (route, side) (rate(proxy_requests_total{${I}}[${RATE}]))`, legend: '{{route}} {{side}}' }],
        },
        {
          title: '5xx ratio by route',
          description: 'Share of answers that were 5xx, per route.',
          unit: 'percentunit',
          thresholds: [0.01, 0.05],
          queries: [
            {
              expr: `sum by (route) (rate(proxy_requests_total{${I}, code="5xx"}[${RATE}])) / sum by (route) (rate(proxy_requests_total{${I}}[${RATE}]))`,
              legend: '{{route}}',
            },
          ],
        },
        {
          title: 'p99 by route and side',
          description: 'From the request to the end of the upstream answer.',
          unit: 's',
          queries: [{ expr: `histogram_quantile(0.99, sum by (le, route, side) (rate(proxy_request_duration_seconds_bucket{${I}}[${RATE}])))`, legend: '{{route}} {{side}}' }],
        },
        {
          title: 'Upstream errors',
          description: 'Connect errors, resets, timeouts and 502/503/504 from the upstreams.',
          unit: 'reqps',
          queries: [{ expr: `sum by (route, side, kind) (rate(proxy_upstream_errors_total{${I}}[${RATE}]))`, legend: '{{route}} {{side}} {{kind}}' }],
        },
        {
          title: 'Fallbacks',
          description: 'Requests retried on the other side after the chosen side failed.',
          unit: 'reqps',
          queries: [{ expr: `sum by (route, from, to) (rate(proxy_fallbacks_total{${I}}[${RATE}]))`, legend: '{{route}} {{from}} → {{to}}' }],
        },
        {
          title: 'Rate limited',
          description: 'Requests refused with 429.',
          unit: 'reqps',
          queries: [{ expr: `sum by (route) (rate(proxy_rate_limited_total{${I}}[${RATE}]))`, legend: '{{route}}' }],
        },
      ],
    },
    {
      title: 'Routing',
      panels: [
        {
          title: 'Route weights',
          description: 'Share of users (0–100) sent to the new side, per route.',
          unit: 'percent',
          min: 0,
          max: 100,
          queries: [{ expr: `max by (route) (proxy_route_weight{${I}})`, legend: '{{route}}' }],
        },
        {
          title: 'Canary',
          description: 'Canary state per route.',
          kind: 'state-timeline',
          states: CANARY_STATES,
          queries: [{ expr: `max by (route) (proxy_canary_state{${I}})`, legend: '{{route}}' }],
        },
        {
          title: 'Upstream instances in rotation',
          description: '1 when the health check keeps the instance in rotation, 0 when it was taken out.',
          kind: 'state-timeline',
          states: { 0: { text: 'out', color: 'red' }, 1: { text: 'in', color: 'green' } },
          queries: [{ expr: `min by (pool, upstream) (proxy_upstream_healthy{${I}})`, legend: '{{pool}} {{upstream}}' }],
        },
        {
          title: 'Config reloads',
          description: 'Config file reloads applied and rejected (a rejected edit leaves the old config serving).',
          queries: [{ expr: `sum by (result) (increase(proxy_config_reloads_total{${I}}[${RATE}]))`, legend: '{{result}}' }],
        },
        {
          title: 'Shadow match rate',
          description: 'Share of mirrored requests whose answers matched, per route in shadow mode.',
          unit: 'percentunit',
          min: 0,
          max: 1,
          queries: [{ expr: `min by (route) (proxy_shadow_match_ratio{${I}})`, legend: '{{route}}' }],
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
          queries: [{ expr: `sum by (instance) (rate(proxy_process_cpu_seconds_total{${I}}[${RATE}]))`, legend: '{{instance}}' }],
        },
        {
          title: 'Memory',
          description: 'Resident memory and V8 heap in use.',
          unit: 'bytes',
          queries: [
            { expr: `sum by (instance) (proxy_process_resident_memory_bytes{${I}})`, legend: 'rss {{instance}}' },
            { expr: `sum by (instance) (proxy_nodejs_heap_size_used_bytes{${I}})`, legend: 'heap {{instance}}' },
          ],
        },
        {
          title: 'Event loop lag p99',
          description: 'How late the event loop runs callbacks: high values delay every proxied request.',
          unit: 's',
          queries: [{ expr: `max by (instance) (proxy_nodejs_eventloop_lag_p99_seconds{${I}})`, legend: '{{instance}}' }],
        },
      ],
    },
  ];
}

function migrationRow(): RowSpec {
  const r = `route="$route"`;
  return {
    title: 'Route $route',
    repeat: 'route',
    panels: [
      {
        title: 'Weight',
        description: 'Share of users (0–100) sent to the new side.',
        kind: 'stat',
        unit: 'percent',
        width: 6,
        queries: [{ expr: `max(proxy_route_weight{${r}})`, legend: 'weight' }],
      },
      {
        title: 'Canary',
        description: 'The canary run on this route: running, paused (held at its step by an operator), completed, rolled back (error rate or latency did not hold) or aborted.',
        kind: 'stat',
        width: 6,
        states: CANARY_STATES,
        queries: [{ expr: `max(proxy_canary_state{${r}})`, legend: 'canary' }],
      },
      {
        title: 'Shadow match rate',
        description: 'Share of mirrored requests whose answers matched the monolith (shadow mode only).',
        kind: 'stat',
        unit: 'percentunit',
        width: 6,
        thresholds: [0.95, 0.99],
        higherIsBetter: true,
        queries: [{ expr: `min(proxy_shadow_match_ratio{${r}})`, legend: 'match' }],
      },
      {
        title: 'Fallbacks',
        description: 'Requests retried on the other side after the chosen side failed, per second.',
        kind: 'stat',
        unit: 'reqps',
        width: 6,
        thresholds: [0.01, 1],
        queries: [{ expr: `sum(rate(proxy_fallbacks_total{${r}}[${RATE}]))`, legend: 'fallbacks' }],
      },
      {
        title: 'Traffic per side',
        description: 'Requests per second answered by the monolith (old) and the service (new).',
        unit: 'reqps',
        queries: [{ expr: `sum by (side) (rate(proxy_requests_total{${r}}[${RATE}]))`, legend: '{{side}}' }],
      },
      {
        title: 'Error rate per side',
        description: 'Share of 5xx answers on each side.',
        unit: 'percentunit',
        thresholds: [0.01, 0.05],
        queries: [
          { expr: `sum by (side) (rate(proxy_requests_total{${r}, code="5xx"}[${RATE}])) / sum by (side) (rate(proxy_requests_total{${r}}[${RATE}]))`, legend: '{{side}}' },
        ],
      },
      {
        title: 'p99 per side',
        description: '99th percentile of the time to answer on each side.',
        unit: 's',
        queries: [{ expr: `histogram_quantile(0.99, sum by (le, side) (rate(proxy_request_duration_seconds_bucket{${r}}[${RATE}])))`, legend: '{{side}}' }],
      },
      {
        title: 'Fallbacks by direction',
        description: 'Which side failed and which took the request over.',
        unit: 'reqps',
        queries: [{ expr: `sum by (from, to) (rate(proxy_fallbacks_total{${r}}[${RATE}]))`, legend: '{{from}} → {{to}}' }],
      },
      {
        title: 'Shadow comparisons',
        description: 'Mirrored requests by result: match, mismatch, or error on the shadow side.',
        unit: 'reqps',
        queries: [{ expr: `sum by (result) (rate(proxy_shadow_comparisons_total{${r}}[${RATE}]))`, legend: '{{result}}' }],
      },
      {
        title: 'Upstream errors per side',
        description: 'Connect errors, resets, timeouts and 502/503/504 per side.',
        unit: 'reqps',
        queries: [{ expr: `sum by (side, kind) (rate(proxy_upstream_errors_total{${r}}[${RATE}]))`, legend: '{{side}} {{kind}}' }],
      },
    ],
  };
}

export function proxyDashboard(): Record<string, unknown> {
  return dashboard({
    uid: 'strangler-proxy',
    title: 'Strangler proxy',
    description: 'The strangler proxy: traffic per route and side, upstream health, routing state and the process.',
    tags: ['strangler', 'proxy'],
    variables: [instanceVariable],
    rows: proxyRows(),
  });
}

export function migrationDashboard(): Record<string, unknown> {
  return dashboard({
    uid: 'strangler-migration',
    title: 'Migration',
    description: 'Moving routes from the monolith to extracted services: one row per route.',
    tags: ['strangler', 'migration'],
    variables: [{ name: 'route', label: 'Route', query: 'label_values(proxy_route_weight, route)', multi: true, includeAll: true }],
    rows: [migrationRow()],
  });
}
