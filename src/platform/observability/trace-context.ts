// The app's side of OpenTelemetry: its tracer, and the W3C traceparent of the current span as a
// string for what must outlive the process (an outbox envelope, a saga row), and back. Stored as a
// traceparent, the context survives a crash: the event handled or the saga resumed later, even
// by another process, continues the trace that caused it.
import { context, isSpanContextValid, propagation, trace, ROOT_CONTEXT, SpanStatusCode, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';

export const tracer = trace.getTracer('strangler');

const getter = {
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
  get: (carrier: Record<string, string>, key: string) => carrier[key],
};

/**
 * The current span's context as a W3C traceparent, or undefined when no span is active: what the
 * W3C propagator (the only one start-tracing.ts installs) injects, formatted here without a carrier
 * object per call, since every request's answer header and every event envelope asks for it.
 */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  const sc = trace.getSpanContext(ctx);
  if (!sc || isTracingSuppressed(ctx) || !isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-0${Number(sc.traceFlags || 0).toString(16)}`;
}

/** A context whose parent is the span a stored traceparent names (the root context when there is none). */
export function contextFromTraceparent(traceparent: string | null | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent }, getter);
}

/** The trace and span ids of the current span, for log lines. */
export function currentTraceIds(): { trace_id: string; span_id: string } | undefined {
  const sc = trace.getSpanContext(context.active());
  if (!sc || !trace.isSpanContextValid(sc)) return undefined;
  return { trace_id: sc.traceId, span_id: sc.spanId };
}

/**
 * Runs `fn` in a new span (a child of `parent`, by default the active context) and ends it; an
 * exception marks the span failed and is rethrown.
 */
export async function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>, parent: Context = context.active()): Promise<T> {
  const span = tracer.startSpan(name, { attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}

/** Runs `fn` under the span a stored traceparent names (a saga row's, an envelope's), not the caller's. */
export function underTraceparent<T>(traceparent: string | null | undefined, fn: () => T): T {
  return context.with(contextFromTraceparent(traceparent), fn);
}

/** Runs `fn` in no trace: background work that must not appear under whichever request woke it. */
export function outsideAnyTrace<T>(fn: () => T): T {
  return context.with(ROOT_CONTEXT, fn);
}
