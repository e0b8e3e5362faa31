// The tracer of a deployable that exports nothing. Each span is a non-recording one with ids of
// its own under the caller's trace (or a new trace), and the caller's sampled flag passes through
// untouched: a process that does not record must not decide for the ones after it that the trace
// is unsampled, which is what an SDK sampler that records nothing would do. No SDK is loaded.
import { context, trace, TraceFlags, type Context, type Span, type SpanOptions, type Tracer, type TracerProvider } from '@opentelemetry/api';
// Ids come from a pooled buffer: one randomBytes call per id costs more than the rest of a span.
import { randomHex } from './random-ids.ts';

type ActiveFn<F> = (span: Span) => F;

class PropagatingTracer implements Tracer {
  startSpan(_name: string, _options?: SpanOptions, ctx: Context = context.active()): Span {
    const parent = trace.getSpanContext(ctx);
    const continued = parent !== undefined && trace.isSpanContextValid(parent);
    return trace.wrapSpanContext({
      traceId: continued ? parent.traceId : randomHex(16),
      spanId: randomHex(8),
      traceFlags: continued ? parent.traceFlags : TraceFlags.NONE,
      traceState: continued ? parent.traceState : undefined,
    });
  }

  startActiveSpan<F extends ActiveFn<unknown>>(name: string, ...rest: [F] | [SpanOptions, F] | [SpanOptions, Context, F]): ReturnType<F> {
    const fn = rest[rest.length - 1] as F;
    const options = rest.length > 1 ? (rest[0] as SpanOptions) : undefined;
    const parent = rest.length > 2 ? (rest[1] as Context) : context.active();
    const span = this.startSpan(name, options, parent);
    return context.with(trace.setSpan(parent, span), () => fn(span)) as ReturnType<F>;
  }
}

export class PropagatingTracerProvider implements TracerProvider {
  private readonly tracer = new PropagatingTracer();
  getTracer(): Tracer {
    return this.tracer;
  }
}
