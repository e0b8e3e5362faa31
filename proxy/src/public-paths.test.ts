// How the public port reads a path: internals refused under every reading a server might apply,
// probes answered whatever the case, broken percent-encoding refused, everything else forwarded.
import { describe, expect, it } from 'vitest';
import { classifyPublicPath } from './public-paths.ts';

describe('public paths', () => {
  it.each([
    '/internal/contracts/payments/refund',
    '/INTERNAL/contracts/payments/refund',
    '/Metrics',
    '/METRICS',
    '/metrics/',
    '/metrics?x=1',
    '/admin/dead-letters',
    '/_PROXY/state',
    '/_proxy',
    '//internal/contracts/x',
    '/./metrics',
    '/api/../metrics',
    '/api/v1/../../admin/dead-letters',
    '/%69nternal/contracts/x',
    '/%2569nternal/contracts/x',
    '/%25252569nternal/contracts/x',
    '/internal%2Fcontracts%2Fx',
    '/api%2F..%2Fmetrics',
    '/api/%2e%2e/metrics',
    '/api/%252e%252e/metrics',
    '/metrics;jsessionid=1',
    '/metrics.',
    '/metrics%20',
    '/metrics%00',
    '\\metrics',
    '/api\\..\\metrics',
  ])('refuses %s', (path) => {
    expect(classifyPublicPath(path)).toEqual({ kind: 'internal' });
  });

  it.each(['/api/v1/orders', '/api/v1/metrics', '/api/v1/orders/internal', '/internals', '/metricsx', '/api/v1/products?q=%2e%2e', '/api/v1/products/100%25', '/'])('forwards %s', (path) => {
    expect(classifyPublicPath(path)).toEqual({ kind: 'forward' });
  });

  it.each([
    ['/health/live', 'live'],
    ['/HEALTH/LIVE', 'live'],
    ['/Health/Ready?probe=1', 'ready'],
    ['/health/%73tarted', 'started'],
    ['/health', undefined],
    ['/health/live/extra', undefined],
  ])('answers the probe %s itself', (path, probe) => {
    expect(classifyPublicPath(path)).toEqual({ kind: 'health', probe });
  });

  it.each(['/api/v2/orders/%ZZ', '/_proxy/routes/%E0%A4%A/weight', '/api/%', '/api/%C0%AF'])('refuses the broken encoding of %s as the client’s error', (path) => {
    expect(classifyPublicPath(path).kind).toBe('malformed');
  });
});
