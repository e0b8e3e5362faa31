// The edge middleware: request ids, spans, the path guard, metrics and the access log, in one pass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import { request as httpRequest, type Server } from 'node:http';
import { startTracing } from '../../../lib/telemetry/index.ts';
import { createLogger } from '../logging/logger.ts';
import { createMetrics } from '../metrics/registry.ts';
import { currentContext } from '../context/request-context.ts';
import { strictRouter } from './strict-router.ts';
import { edge } from './edge.ts';
import { notFoundHandler, problemHandler } from './problem.ts';
import { eventually } from '../../../test/support/eventually.ts';

describe('the edge of every listener', () => {
  let server: Server;
  let base: string;
  const lines: string[] = [];
  const health = { draining: false };
  const metrics = createMetrics({ deployable: 'edge-test' });

  beforeAll(async () => {
    await startTracing({ serviceName: 'edge-test', env: {} });
    const logger = createLogger('info', { deployable: 'edge-test' }, { write: (l: string) => lines.push(l) });
    const app = express();
    app.use(edge({ logger, figures: metrics.http, health }));
    const routes = strictRouter();
    routes.get('/api/v1/things/:id', (req, res) => {
      res.json({ id: req.params.id, requestId: currentContext()?.requestId });
    });
    routes.get('/health/live', (_req, res) => {
      res.json({ status: 'ok' });
    });
    // Never answered: the client gives up first.
    routes.get('/slow', () => {});
    app.use(routes);
    app.use(notFoundHandler);
    app.use(problemHandler(logger));
    await new Promise<void>((r) => {
      server = app.listen(0, '127.0.0.1', () => r());
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });

  const accessLines = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
  const series = async (prefix: string) => (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith(prefix));

  it('honours a well-formed X-Request-Id and correlation id, echoes the id, and runs the request in their context', async () => {
    const res = await fetch(`${base}/api/v1/things/1`, { headers: { 'x-request-id': 'req-edge-1', 'x-correlation-id': 'corr-edge-1' } });
    expect(res.headers.get('x-request-id')).toBe('req-edge-1');
    expect(await res.json()).toEqual({ id: '1', requestId: 'req-edge-1' });
    const bad = await fetch(`${base}/api/v1/things/2`, { headers: { 'x-request-id': 'not ok; <script>' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('continues the caller’s trace and names it in the traceparent it answers with', async () => {
    const res = await fetch(`${base}/api/v1/things/3`, { headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    expect(res.headers.get('traceparent')).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-(?!b7ad6b7169203331)[0-9a-f]{16}-01$/);
  });

  it('writes one access line per answered request with the fields the logs are searched by', async () => {
    const res = await fetch(`${base}/api/v1/things/4?x=1`, { headers: { 'x-request-id': 'req-edge-4' } });
    await res.arrayBuffer();
    const traceparent = res.headers.get('traceparent')!;
    const line = await eventually(() => accessLines().find((l) => l.requestId === 'req-edge-4'));
    expect(line).toMatchObject({ level: 'info', deployable: 'edge-test', requestId: 'req-edge-4', correlationId: 'req-edge-4', method: 'GET', path: '/api/v1/things/4?x=1', status: 200, msg: 'request' });
    expect(`00-${line.trace_id}-${line.span_id}-00`).toBe(traceparent);
    expect(typeof line.ms).toBe('number');
    expect(typeof line.time).toBe('string');
  });

  it('refuses a path with malformed percent-encoding with a problem naming the request, and counts and logs it', async () => {
    const res = await fetch(`${base}/api/v1/things/%E0%A4%A`, { headers: { 'x-request-id': 'req-bad-path' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 400, code: 'MalformedPath', requestId: 'req-bad-path', instance: '/api/v1/things/%E0%A4%A' });
    await eventually(() => accessLines().find((l) => l.requestId === 'req-bad-path' && l.status === 400));
    expect(await series('http_requests_total{method="GET",route="unmatched",status="400"')).toHaveLength(1);
  });

  it('counts answers by method, route pattern and status on /metrics, probes included, and logs no probe', async () => {
    const before = lines.length;
    await (await fetch(`${base}/health/live`)).arrayBuffer();
    await (await fetch(`${base}/nowhere`)).arrayBuffer();
    await eventually(async () => (await series('http_requests_total{method="GET",route="unmatched",status="404"')).length === 1 || undefined);
    expect(await series('http_requests_total{method="GET",route="/api/v1/things/:id",status="200"')).toEqual([expect.stringMatching(/ [3-9]$/)]);
    expect(await series('http_requests_total{method="GET",route="/health/live",status="200"')).toHaveLength(1);
    expect(await series('http_request_duration_seconds_count{deployable="edge-test",method="GET",route="/api/v1/things/:id",status="200"}')).toHaveLength(1);
    expect(lines.slice(before).some((l) => l.includes('/health/live'))).toBe(false);
    // A made-up path under /health is no probe: unmatched, so it adds no series of its own, and logged.
    await (await fetch(`${base}/health/made-up-${Date.now()}`)).arrayBuffer();
    await eventually(() => accessLines().find((l) => String(l.path).startsWith('/health/made-up-') && l.status === 404));
    expect((await series('http_requests_total{')).filter((l) => l.includes('route="/health'))).toEqual([expect.stringContaining('route="/health/live"')]);
    expect(await series('http_requests_in_flight')).toEqual(['http_requests_in_flight{deployable="edge-test"} 0']);
  });

  it('closes keep-alive connections while draining', async () => {
    health.draining = true;
    try {
      const res = await fetch(`${base}/api/v1/things/5`);
      expect(res.headers.get('connection')).toBe('close');
    } finally {
      health.draining = false;
    }
  });

  it('neither counts nor logs a request its client abandoned before the answer, and no longer holds it in flight', async () => {
    const req = httpRequest(`${base}/slow`, { headers: { 'x-request-id': 'req-abandoned' } });
    req.on('error', () => {});
    req.end();
    await eventually(async () => (await series('http_requests_in_flight'))[0]?.endsWith(' 1') || undefined);
    req.destroy();
    await eventually(async () => (await series('http_requests_in_flight'))[0]?.endsWith(' 0') || undefined);
    expect(await series('http_requests_total{method="GET",route="/slow"')).toEqual([]);
    expect(accessLines().some((l) => l.requestId === 'req-abandoned')).toBe(false);
  });
});
