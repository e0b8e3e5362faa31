// What the proxy answers itself instead of forwarding: its probes (on both listeners) and its
// metrics (on the internal one).
import type http from 'node:http';
import type { ProxyMetrics } from './metrics.ts';
import type { ProxyConfig } from './config-schema.ts';
import type { ShadowReport } from './shadow-compare.ts';
import type { CanaryController } from './canary-controller.ts';
import { sendJson, sendProblem } from './problem.ts';

/** Answers a probe: `probe` is the name after /health/ (live, started, ready), in lower case. */
export function answerProbe(res: http.ServerResponse, method: string | undefined, probe: string | undefined, draining: boolean): void {
  if (method !== 'GET' && method !== 'HEAD') return sendProblem(res, 405, 'MethodNotAllowed', 'probes answer GET and HEAD', { allow: 'GET, HEAD' });
  if (probe === 'live' || probe === 'started') return sendJson(res, 200, { status: 'ok' });
  if (probe === 'ready') return draining ? sendProblem(res, 503, 'Draining', 'the proxy is shutting down', { 'retry-after': '1' }) : sendJson(res, 200, { status: 'ok' });
  sendProblem(res, 404, 'RouteNotFound', 'the probes are /health/live, /health/ready and /health/started');
}

/** The Prometheus text, with the gauges that are read rather than counted brought up to date first. */
export function answerMetrics(res: http.ServerResponse, metrics: ProxyMetrics, config: ProxyConfig, shadowReport: ShadowReport, canary: CanaryController): Promise<void> {
  const shadow = shadowReport.snapshot().routes;
  for (const r of config.routes) {
    const s = shadow[r.name];
    if (s?.matchRate != null) metrics.shadowMatchRatio.labels(r.name).set(s.matchRate);
    metrics.canaryState.labels(r.name).set(canary.stateCode(r.name));
  }
  return metrics.registry.metrics().then((text) => {
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(text);
  });
}
