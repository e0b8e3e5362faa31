// Every request runs inside a context holding its request id (X-Request-Id honoured or
// generated, and echoed back), its correlation id, and a server span continuing the caller's W3C
// trace (or starting one). With the http instrumentation loaded (tracing exported) that span is
// already open; otherwise this opens it here, so ids and trace context behave the same either way.
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { runWithContext } from '../context/request-context.ts';
import { currentTraceparent, tracer } from '../observability/trace-context.ts';

const safeId = /^[A-Za-z0-9._:-]{1,128}$/;

export const requestContext: RequestHandler = (req, res, next) => {
  const given = req.get('x-request-id');
  const requestId = given && safeId.test(given) ? given : randomUUID();
  const correlation = req.get('x-correlation-id');
  const ctx = { requestId, correlationId: correlation && safeId.test(correlation) ? correlation : requestId };
  res.setHeader('X-Request-Id', requestId);
  if (trace.getSpan(context.active())) {
    const traceparent = currentTraceparent();
    if (traceparent) res.setHeader('traceparent', traceparent);
    runWithContext(ctx, next);
    return;
  }
  // The propagator ignores a malformed traceparent: the request then starts a trace of its own.
  const parent = propagation.extract(context.active(), req.headers);
  const span = tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } }, parent);
  res.once('close', () => {
    if (span.isRecording()) {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  });
  const active = trace.setSpan(parent, span);
  const traceparent = currentTraceparent(active);
  if (traceparent) res.setHeader('traceparent', traceparent);
  context.with(active, () => runWithContext(ctx, next));
};
