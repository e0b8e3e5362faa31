// What every request meets first on every listener, in one pass: the draining mark, its scope
// (request and correlation ids, its server span: request-context.ts), the refusal of a path that
// cannot be decoded, and, once it is answered, its metrics sample and access-log line, labelled by
// the route pattern, never the raw path. One middleware and one 'close' listener per request, where
// there were four middlewares, three listeners and prom-client's label lookups.
import type { Request, RequestHandler, Response } from 'express';
import { context, trace } from '@opentelemetry/api';
import type { Logger } from '../logging/logger.ts';
import { AccessLog } from '../logging/access-log.ts';
import type { HttpFigures } from '../metrics/http-figures.ts';
import { endRequestSpan, openRequestScope } from './request-context.ts';
import { sendProblem } from './problem.ts';
import { PROBE_PATHS } from './health.ts';

export interface EdgeOptions {
  logger: Logger;
  figures: HttpFigures;
  /** While draining, every answer closes its connection so keep-alive clients move elsewhere. */
  health: { readonly draining: boolean };
}

/**
 * The pattern that matched (`/api/v1/products/:sku`), the probe's own path, or `unmatched`: never a
 * raw path a client chose, or every made-up URL would be a metric series of its own.
 */
function routeOf(req: Request, path: string): string {
  return req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : PROBE_PATHS.has(path) ? path : 'unmatched';
}

export function edge(o: EdgeOptions): RequestHandler {
  const log = new AccessLog(o.logger);
  const figures = o.figures;
  return (req, res, next) => {
    const start = performance.now();
    if (o.health.draining) res.setHeader('Connection', 'close');
    const path = req.path;
    const { ids, span, context: scope } = openRequestScope(req, res, path);
    // Probes and scrapes are counted, not logged.
    const logged = !PROBE_PATHS.has(path) && path !== '/metrics';
    figures.inFlight++;
    res.once('close', () => {
      figures.inFlight--;
      // A request its client abandoned before any answer is neither counted nor logged.
      if (res.writableEnded) {
        const seconds = (performance.now() - start) / 1000;
        figures.record(req.method, routeOf(req, path), res.statusCode, seconds);
        if (logged) {
          const sc = span?.spanContext();
          const traced = sc !== undefined && trace.isSpanContextValid(sc);
          log.write({
            requestId: ids.requestId,
            correlationId: ids.correlationId,
            traceId: traced ? sc.traceId : undefined,
            spanId: traced ? sc.spanId : undefined,
            method: req.method,
            path: req.originalUrl,
            status: res.statusCode,
            ms: Math.round(seconds * 1e4) / 10,
          });
        }
      }
      if (span) endRequestSpan(span, req, res);
    });
    context.with(scope, refuseMalformedPath, undefined, path, res, next);
  };
}

// A path that cannot be decoded is the client's mistake: answered 400 here, before routing, instead
// of a URIError deep in a route's parameter decoding. Only a path with a `%` can be malformed.
function refuseMalformedPath(path: string, res: Response, next: () => void): void {
  if (path.includes('%')) {
    try {
      decodeURIComponent(path);
    } catch {
      sendProblem(res, 400, 'MalformedPath', 'The path has malformed percent-encoding');
      return;
    }
  }
  next();
}
