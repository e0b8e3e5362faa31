// Every request runs inside a context holding its request id (X-Request-Id honoured or
// generated, and echoed back), its correlation id, and its server span continuing the caller's W3C
// trace (or starting one). The span is the app's own, named by the route that matched
// (`GET /api/v1/products/:sku`); with tracing off it records nothing but still gives the request
// trace ids for its log lines, its outgoing calls and the events it publishes.
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { runWithContext, withRequestContext } from '../context/request-context.ts';
import { currentTraceparent, tracer } from '../observability/trace-context.ts';

const safeId = /^[A-Za-z0-9._:-]{1,128}$/;
// Probes and scrapes every few seconds would bury the requests people look for.
const unobserved = /^\/(health\/|metrics$)/;

export const requestContext: RequestHandler = (req, res, next) => {
  const given = req.get('x-request-id');
  const requestId = given && safeId.test(given) ? given : randomUUID();
  const correlation = req.get('x-correlation-id');
  const ids = { requestId, correlationId: correlation && safeId.test(correlation) ? correlation : requestId };
  res.setHeader('X-Request-Id', requestId);
  if (unobserved.test(req.path)) {
    runWithContext(ids, next);
    return;
  }
  // The propagator ignores a malformed traceparent: the request then starts a trace of its own.
  const parent = propagation.extract(context.active(), req.headers);
  const span = tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path } }, parent);
  res.once('close', () => {
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
  });
  const active = trace.setSpan(parent, span);
  const traceparent = currentTraceparent(active);
  if (traceparent) res.setHeader('traceparent', traceparent);
  context.with(withRequestContext(active, ids), next);
};
