// The proxy's spans for one request, when tracing is exported (OTEL_* set; see main.ts): a server
// span continuing the client's W3C trace, a routing span holding the decision (route, side,
// weight, pool, and whether it fell back to the other side), and one client span per upstream
// attempt whose context replaces the request's traceparent, so the upstream's server span is its
// child. Spans are started with explicit parents and never made active: nothing else on the hot
// path reads a context. Without export there is no RequestTrace and edge-headers.ts keeps writing
// a traceparent that continues the caller's trace at no cost.
import type { IncomingMessage } from 'node:http';
import { propagation, trace, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';
import { currentTracing } from '../../lib/telemetry/index.ts';
import type { Side } from './side-assignment.ts';

const tracer = trace.getTracer('strangler-proxy');

export interface RoutingDecision {
  route: string;
  prefix: string | undefined;
  side: Side;
  weight: number | undefined;
  pool: string;
  /** The side came from the override header, not the weight. */
  forced: boolean;
}

export class RequestTrace {
  private readonly server: Span;
  private readonly serverContext: Context;
  private routing: Span | undefined;
  private routingContext: Context | undefined;
  private attemptSpan: Span | undefined;
  private readonly method: string;

  constructor(req: IncomingMessage) {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const method = req.method ?? 'GET';
    this.method = method;
    this.server = tracer.startSpan(method, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': method, 'url.path': (req.url ?? '/').split('?')[0]!, 'user_agent.original': req.headers['user-agent'] ?? '' },
    }, parent);
    this.serverContext = trace.setSpan(parent, this.server);
  }

  /** The route and side chosen for this request. */
  routed(d: RoutingDecision): void {
    if (d.prefix) this.server.updateName(`${this.method} ${d.prefix}`);
    this.server.setAttribute('http.route', d.prefix ?? '/');
    this.routing = tracer.startSpan(
      `route ${d.route}`,
      {
        attributes: {
          'strangler.route': d.route,
          'strangler.side': d.side,
          'strangler.pool': d.pool,
          'strangler.forced': d.forced,
          'strangler.fallback': false,
          ...(d.weight !== undefined ? { 'strangler.weight': d.weight } : {}),
        },
      },
      this.serverContext,
    );
    this.routingContext = trace.setSpan(this.serverContext, this.routing);
  }

  /** The decision changed: this side failed in a way that is safe to repeat on the other. */
  fellBack(from: Side, to: Side, pool: string, why: string): void {
    this.routing?.setAttributes({ 'strangler.fallback': true, 'strangler.fallback.from': from, 'strangler.side': to, 'strangler.pool': pool, 'strangler.fallback.reason': why });
    this.routing?.addEvent('fallback', { from, to, reason: why });
  }

  /** A new upstream attempt: its client span, and the traceparent naming it for the upstream. */
  attempt(method: string, origin: URL, side: Side): string | undefined {
    this.attemptEnded();
    const parent = this.routingContext ?? this.serverContext;
    const span = tracer.startSpan(
      method,
      { kind: SpanKind.CLIENT, attributes: { 'http.request.method': method, 'server.address': origin.hostname, 'server.port': Number(origin.port || 80), 'strangler.side': side } },
      parent,
    );
    this.attemptSpan = span;
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(parent, span), carrier);
    return carrier.traceparent;
  }

  attemptAnswered(status: number): void {
    this.attemptSpan?.setAttribute('http.response.status_code', status);
    if (status >= 500) this.attemptSpan?.setStatus({ code: SpanStatusCode.ERROR });
  }

  attemptFailed(err: Error & { code?: string }): void {
    this.attemptSpan?.setStatus({ code: SpanStatusCode.ERROR, message: err.code ?? err.message });
    this.attemptEnded();
  }

  attemptEnded(): void {
    this.attemptSpan?.end();
    this.attemptSpan = undefined;
  }

  /** The client has its answer (or left). */
  end(status: number): void {
    this.attemptEnded();
    this.routing?.end();
    this.server.setAttribute('http.response.status_code', status);
    if (status >= 500) this.server.setStatus({ code: SpanStatusCode.ERROR });
    this.server.end();
  }
}

/** A trace for this request when this process exports spans, else undefined. */
export function traceRequest(req: IncomingMessage): RequestTrace | undefined {
  return currentTracing()?.exporting ? new RequestTrace(req) : undefined;
}
