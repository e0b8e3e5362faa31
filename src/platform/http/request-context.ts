// Every request runs inside a context holding its request id (X-Request-Id honoured or
// generated, and echoed back), its correlation id, and its server span continuing the caller's W3C
// trace (or starting one). The span is the app's own, named by the route that matched
// (`GET /api/v1/products/:sku`); with tracing off it records nothing but still gives the request
// trace ids for its log lines, its outgoing calls and the events it publishes. The listeners open
// this scope in their edge middleware (edge.ts), in the same pass as metrics and the access log.
import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { context, propagation, trace, SpanKind, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';
import { withRequestContext, type RequestContext } from '../context/request-context.ts';
import { currentTraceparent, tracer } from '../observability/trace-context.ts';

const safeId = /^[A-Za-z0-9._:-]{1,128}$/;
// Probes and scrapes every few seconds would bury the requests people look for.
const unobserved = /^\/(health\/|metrics$)/;

export interface RequestScope {
  ids: RequestContext;
  /** Absent for probes and scrapes. */
  span: Span | undefined;
  /** The context to run the request in: its ids, and its span when it has one. */
  context: Context;
}

/** The request's ids and span (headers set on `res`); `path` is the request's path (req.path). */
export function openRequestScope(req: Request, res: Response, path: string): RequestScope {
  const headers = req.headers;
  const given = headers['x-request-id'];
  const requestId = typeof given === 'string' && safeId.test(given) ? given : randomUUID();
  const correlation = headers['x-correlation-id'];
  const ids = { requestId, correlationId: typeof correlation === 'string' && safeId.test(correlation) ? correlation : requestId };
  res.setHeader('X-Request-Id', requestId);
  if (unobserved.test(path)) return { ids, span: undefined, context: withRequestContext(context.active(), ids) };
  // The propagator ignores a malformed traceparent: the request then starts a trace of its own.
  const parent = propagation.extract(context.active(), headers);
  const span = tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': path } }, parent);
  const active = trace.setSpan(parent, span);
  const traceparent = currentTraceparent(active);
  if (traceparent) res.setHeader('traceparent', traceparent);
  return { ids, span, context: withRequestContext(active, ids) };
}

/** Ends the request's span once it is answered (or abandoned), with the route and status. */
export function endRequestSpan(span: Span, req: Request, res: Response): void {
  if (span.isRecording()) {
    // Known once express has matched: the pattern, never the raw path (one name per route).
    const route = req.route?.path !== undefined ? `${req.baseUrl}${String(req.route.path)}` : undefined;
    if (route) {
      span.updateName(`${req.method} ${route}`);
      span.setAttribute('http.route', route);
    }
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** The request scope alone, as a middleware (a test app without the listeners' edge). */
export const requestContext: RequestHandler = (req, res, next) => {
  const scope = openRequestScope(req, res, req.path);
  if (scope.span) res.once('close', () => endRequestSpan(scope.span!, req, res));
  context.with(scope.context, next);
};
