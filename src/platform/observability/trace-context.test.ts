import { describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, TraceFlags, propagation, trace, type Context } from '@opentelemetry/api';
import { suppressTracing, W3CTraceContextPropagator } from '@opentelemetry/core';
import { contextFromTraceparent, currentTraceparent } from './trace-context.ts';

const w3c = new W3CTraceContextPropagator();
const injected = (ctx: Context) => {
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, { set: (c, k, v) => (c[k] = v) });
  return carrier.traceparent;
};
const withSpan = (traceFlags: number, traceId = '0af7651916cd43dd8448eb211c80319c', spanId = 'b7ad6b7169203331') =>
  trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags, isRemote: false });

describe('currentTraceparent', () => {
  it('is what the W3C propagator injects, for sampled, unsampled, suppressed, invalid and absent spans', () => {
    const cases = [
      withSpan(TraceFlags.SAMPLED),
      withSpan(TraceFlags.NONE),
      suppressTracing(withSpan(TraceFlags.SAMPLED)),
      withSpan(TraceFlags.SAMPLED, '00000000000000000000000000000000'),
      withSpan(TraceFlags.SAMPLED, '0af7651916cd43dd8448eb211c80319c', '0000000000000000'),
      ROOT_CONTEXT,
    ];
    for (const ctx of cases) expect(currentTraceparent(ctx)).toBe(injected(ctx));
    expect(currentTraceparent(withSpan(TraceFlags.SAMPLED))).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  it('round-trips through contextFromTraceparent', () => {
    propagation.setGlobalPropagator(w3c);
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(currentTraceparent(contextFromTraceparent(tp))).toBe(tp);
    expect(currentTraceparent(contextFromTraceparent(null))).toBeUndefined();
  });
});
