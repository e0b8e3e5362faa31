// Who is asking and which request this work belongs to travels with the work, so logs, outgoing
// calls and published events pick the ids up without threading them through every signature.
// It rides in OpenTelemetry's context, beside the active span: one AsyncLocalStorage carries both,
// and the trace context is never a copy that can drift from the span being recorded.
import { context, createContextKey, type Context } from '@opentelemetry/api';
import { ensureContextManager } from '../../../lib/telemetry/index.ts';
import type { Identity } from '../../../lib/trust/index.ts';

ensureContextManager();

/** The end user a request or call acts for: the identity its verified token gave. */
export type Caller = Identity;

export interface RequestContext {
  requestId: string;
  correlationId: string;
  caller?: Caller;
  /** Set while handling an event: events published now were caused by it. */
  causationId?: string;
}

const key = createContextKey('strangler.request-context');

/** Runs `fn` with `ctx` as the request context, keeping the active span. */
export function runWithContext<T>(ctx: RequestContext, fn: () => T): T {
  return context.with(context.active().setValue(key, ctx), fn);
}

/** `base` (say, with a span set in it) with `ctx` as its request context, to enter in one step. */
export function withRequestContext(base: Context, ctx: RequestContext): Context {
  return base.setValue(key, ctx);
}

export function currentContext(): RequestContext | undefined {
  return context.active().getValue(key) as RequestContext | undefined;
}
