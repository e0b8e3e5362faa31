// What the proxy answers itself instead of forwarding: its probes and its metrics.
import type http from 'node:http';
import type { ProxyMetrics } from './metrics.ts';
import type { ProxyConfig } from './config-schema.ts';
import type { ShadowReport } from './shadow-compare.ts';
import type { CanaryController } from './canary-controller.ts';
import { sendJson, sendProblem } from './problem.ts';

/** Answers `/health/live`, `/health/started` and `/health/ready` (503 while draining); false for anything else. */
export function answerProbe(req: http.IncomingMessage, res: http.ServerResponse, draining: boolean): boolean {
  if (req.method !== 'GET') return false;
  const url = req.url;
  if (url === '/health/live' || url === '/health/started') {
    sendJson(res, 200, { status: 'ok' });
    return true;
  }
  if (url === '/health/ready') {
    if (draining) sendProblem(res, 503, 'Draining', 'the proxy is shutting down');
    else sendJson(res, 200, { status: 'ok' });
    return true;
  }
  return false;
}

/** The Prometheus text, with the gauges that are read rather than counted brought up to date first. */
export function answerMetrics(res: http.ServerResponse, metrics: ProxyMetrics, config: ProxyConfig, shadowReport: ShadowReport, canary: CanaryController): void {
  const shadow = shadowReport.snapshot().routes;
  for (const r of config.routes) {
    const s = shadow[r.name];
    if (s?.matchRate != null) metrics.shadowMatchRatio.labels(r.name).set(s.matchRate);
    metrics.canaryState.labels(r.name).set(canary.stateCode(r.name));
  }
  void metrics.registry.metrics().then((text) => {
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(text);
  });
}
