// One JSON line per request with the request id, the trace id, the route, the side, the status
// and the duration; written through a buffered destination that is flushed when the process ends.
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { proxyWith, request, startUpstream, tempConfig, twoSides, waitFor } from './helpers.ts';
import { spawnProxy, type ProxyProcess } from './proxy-process.ts';

describe('access log', () => {
  it('writes one line per request with its id, trace, route, side, status and duration, and nothing when off', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) });
    const old = await startUpstream('monolith');
    const fresh = await startUpstream('orders');
    const p = await proxyWith(twoSides(old, fresh, { weight: 100 }), { accessLog: 'info', accessLogger: pino({ level: 'info' }, sink) });
    const quiet = await proxyWith(twoSides(old, fresh));
    try {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      await request(p.url, '/api/v1/orders/7', { headers: { 'x-request-id': 'req-7', traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
      await request(p.url, '/METRICS');
      await request(p.url, '/elsewhere');
      await waitFor(() => lines.length === 3, 'three lines');
      expect(lines[0]).toMatchObject({ msg: 'request', level: 30, requestId: 'req-7', traceId, method: 'GET', path: '/api/v1/orders/7', route: 'orders', side: 'new', status: 200, ms: expect.any(Number) });
      expect(lines[1]).toMatchObject({ path: '/METRICS', route: '(default)', status: 404, requestId: expect.any(String) });
      expect(lines[2]).toMatchObject({ route: '(default)', side: 'old', status: 200 });
      await request(quiet.url, '/api/v1/orders/7');
      expect(lines).toHaveLength(3);
    } finally {
      await p.close();
      await quiet.close();
      await old.close();
      await fresh.close();
    }
  });

  it('flushes its buffered lines when the process stops, at the configured level', async () => {
    const upstream = await startUpstream('monolith');
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await spawnProxy({
        env: { PROXY_CONFIG: tempConfig({ pools: { monolith: { instances: [upstream.url] } } }), JWT_SECRET: 'j'.repeat(40), PROXY_ACCESS_LOG: 'debug', LOG_LEVEL: 'debug' },
      });
      for (let i = 0; i < 3; i++) expect((await request(proxy.base, `/flushed/${i}`, { agent: false })).status).toBe(200);
    } finally {
      await proxy?.stop();
      await upstream.close();
    }
    const access = proxy!.output()
      .split('\n')
      .filter((l) => l.includes('"msg":"request"'))
      .map((l) => JSON.parse(l) as { level: number; path: string; status: number });
    expect(access.map((a) => [a.level, a.path, a.status])).toEqual([0, 1, 2].map((i) => [20, `/flushed/${i}`, 200]));
  }, 60_000);
});
