// The span of one contract call, the same for both bindings: named `<module>.<operation>`, with
// the module and the operation as attributes. In-process it is an internal span; remote it is the
// client span whose context travels in the request's traceparent, so the serving deployable's
// server span is its child.
import { context, trace, SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { DomainError } from '../errors/domain-error.ts';
import { tracer } from './trace-context.ts';

export type Binding = 'in-process' | 'remote';

export function startContractSpan(module: string, operation: string, binding: Binding): Span {
  return tracer.startSpan(`${module}.${operation}`, {
    kind: binding === 'remote' ? SpanKind.CLIENT : SpanKind.INTERNAL,
    attributes: {
      'contract.module': module,
      'contract.operation': operation,
      'contract.binding': binding,
      'rpc.system': 'strangler-contract',
      'rpc.service': module,
      'rpc.method': operation,
    },
  });
}

/** Runs `fn` with `span` active and ends it; a typed error is an answer, anything else a failure. */
export async function inContractSpan<T>(span: Span, fn: () => Promise<T>): Promise<T> {
  try {
    const out = await context.with(trace.setSpan(context.active(), span), fn);
    return out;
  } catch (err) {
    if (span.isRecording()) {
      if (err instanceof DomainError) span.setAttribute('contract.error', err.code);
      // A declared error of 4xx is the callee saying no, not a fault of the call.
      if (!(err instanceof DomainError) || err.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    }
    throw err;
  } finally {
    span.end();
  }
}
