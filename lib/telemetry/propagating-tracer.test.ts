import { describe, expect, it } from 'vitest';
import { context, trace, TraceFlags, ROOT_CONTEXT } from '@opentelemetry/api';
import { PropagatingTracerProvider } from './propagating-tracer.ts';
import { ensureContextManager } from './context-manager.ts';

const tracer = new PropagatingTracerProvider().getTracer();

describe('the tracer of a deployable that exports nothing', () => {
  it('continues the caller’s trace with a span id of its own and the caller’s sampled flag', () => {
    const caller = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
    const span = tracer.startSpan('work', {}, trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext(caller)));
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext()).toMatchObject({ traceId: caller.traceId, traceFlags: TraceFlags.SAMPLED });
    expect(span.spanContext().spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(span.spanContext().spanId).not.toBe(caller.spanId);
  });

  it('starts a new, unsampled trace when there is no caller', () => {
    const a = tracer.startSpan('a', {}, ROOT_CONTEXT).spanContext();
    const b = tracer.startSpan('b', {}, ROOT_CONTEXT).spanContext();
    expect(a.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.traceId).not.toBe(b.traceId);
    expect(a.traceFlags).toBe(TraceFlags.NONE);
  });

  it('makes the span active for startActiveSpan', () => {
    ensureContextManager();
    const inner = tracer.startActiveSpan('outer', (span) => {
      const active = trace.getSpan(context.active());
      span.end();
      return active?.spanContext().spanId === span.spanContext().spanId;
    });
    expect(inner).toBe(true);
  });
});
