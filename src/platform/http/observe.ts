import type { RequestHandler } from 'express';
import { context } from '@opentelemetry/api';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/registry.ts';

/** One access-log line and one metrics sample per request, labelled by route pattern, not raw path. */
export function observe(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    // 'finish' may fire in another context (the http instrumentation binds the response to its
    // span's): the line is written in the request's, so it carries the request's ids.
    const requestScope = context.active();
    metrics.httpInFlight.inc();
    res.once('close', () => metrics.httpInFlight.dec());
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : req.path.startsWith('/health') ? req.path : 'unmatched';
      const labels = { method: req.method, route, status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, seconds);
      if (!req.path.startsWith('/health') && req.path !== '/metrics') {
        context.with(requestScope, () => logger.info({ method: req.method, path: req.originalUrl, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10 }, 'request'));
      }
    });
    next();
  };
}
