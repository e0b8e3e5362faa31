// One order through the split system — the strangler proxy (in this process), the monolith and an
// extracted payments service (child processes), the BullMQ bus between them — with every process
// exporting OTLP/HTTP to a receiver here. One trace must hold all of it, parented as the calls
// were made, and the deployables' log lines must name the spans they were written in.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type RunningSystem } from '../support/topologies.ts';
import { eventually } from '../support/eventually.ts';
import { actors, domainTestEnv } from '../domain/commerce-world.ts';
import { startTracing, stopTracing } from '../../lib/telemetry/index.ts';
import { SpanKind, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';

let receiver: OtlpReceiver;
let sys: RunningSystem;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '100' };
  // The proxy runs in this process: it exports as the `proxy` service.
  await startTracing({ serviceName: 'proxy', env: otel });
  sys = await startSystem({ name: 'payments extracted', extracted: ['payments'] }, { env: { ...domainTestEnv, ...otel, LOG_LEVEL: 'info' } });
}, 300_000);

afterAll(async () => {
  await sys?.close();
  await stopTracing();
  await receiver?.close();
}, 60_000);

const byId = (spans: ReceivedSpan[]) => new Map(spans.map((s) => [s.spanId, s]));

describe('one order, traced across the proxy, the monolith, a service and the bus', () => {
  it('puts every process’s spans in one trace, each under the span that caused it', async () => {
    const sku = await (await actors({ baseUrl: sys.baseUrl, token: sys.token })).product(1800, 5);
    const traceId = randomBytes(16).toString('hex');
    const clientSpan = randomBytes(8).toString('hex');
    const token = await sys.token('tracer');
    const placed = await fetch(`${sys.baseUrl}/api/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `trace-${traceId}`, traceparent: `00-${traceId}-${clientSpan}-01` },
      body: JSON.stringify({ items: [{ sku, quantity: 1 }] }),
    });
    expect(placed.status).toBe(202);
    const { id } = (await placed.json()) as { id: string };
    await eventually(async () => {
      const r = await fetch(`${sys.baseUrl}/api/v1/orders/${id}`, { headers: { authorization: `Bearer ${token}` } });
      return ((await r.json()) as { status: string }).status === 'CONFIRMED';
    }, 'the order confirmed', 60_000);

    // Everything the order caused, until the last consumer (the notification of the confirmation) has reported.
    const trace = await eventually(() => {
      const spans = receiver.spans.filter((s) => s.traceId === traceId);
      const confirmedHandled = spans.some((s) => s.kind === SpanKind.CONSUMER && s.name === 'process OrderConfirmed.v1' && s.attributes['messaging.consumer.group.name'] === 'notifications');
      const charged = spans.some((s) => s.service === 'payments-service' && s.kind === SpanKind.SERVER);
      return confirmedHandled && charged && spans;
    }, 'the spans of the order at the receiver', 60_000);
    const spans = byId(trace);
    const parentOf = (s: ReceivedSpan) => (s.parentSpanId ? spans.get(s.parentSpanId) : undefined);

    expect(new Set(trace.map((s) => s.service))).toEqual(new Set(['proxy', 'monolith', 'payments-service']));

    // The proxy: its server span continues the client's trace, under the client's span.
    const proxyServer = trace.find((s) => s.service === 'proxy' && s.kind === SpanKind.SERVER && s.attributes['http.request.method'] === 'POST')!;
    expect(proxyServer.parentSpanId).toBe(clientSpan);
    const routing = trace.find((s) => s.service === 'proxy' && s.parentSpanId === proxyServer.spanId && s.name.startsWith('route '))!;
    expect(routing.attributes).toMatchObject({ 'strangler.route': '(default)', 'strangler.side': 'old', 'strangler.pool': 'monolith', 'strangler.fallback': false });
    const proxyClient = trace.find((s) => s.service === 'proxy' && s.kind === SpanKind.CLIENT && s.parentSpanId === routing.spanId)!;
    expect(proxyClient.attributes['http.response.status_code']).toBe(202);

    // The monolith's server span is the child of the proxy's client span.
    const monolithServer = trace.find((s) => s.service === 'monolith' && s.kind === SpanKind.SERVER && s.attributes['http.request.method'] === 'POST' && s.parentSpanId === proxyClient.spanId);
    expect(monolithServer?.name).toBe('POST /api/v1/orders');

    // The saga's charge step calls the payments contract remotely: the payments service's server
    // span is the child of that contract call's client span, itself under the saga step.
    const charge = trace.find((s) => s.service === 'monolith' && s.kind === SpanKind.CLIENT && s.attributes['contract.module'] === 'payments' && s.attributes['contract.operation'] === 'charge')!;
    expect(charge.attributes['contract.binding']).toBe('remote');
    expect(parentOf(charge)).toMatchObject({ name: 'saga step charge', service: 'monolith' });
    const paymentsServer = trace.find((s) => s.service === 'payments-service' && s.kind === SpanKind.SERVER)!;
    expect(paymentsServer.parentSpanId).toBe(charge.spanId);
    // In-process contract calls have their span too (the reservation stays in the monolith).
    expect(trace.some((s) => s.service === 'monolith' && s.kind === SpanKind.INTERNAL && s.attributes['contract.module'] === 'inventory' && s.attributes['contract.binding'] === 'in-process')).toBe(true);

    // The bus: each handling span hangs below the relay's publish span, which hangs below the
    // span that wrote the event — for OrderPlaced, the request that placed the order.
    const consumers = trace.filter((s) => s.kind === SpanKind.CONSUMER);
    expect(consumers.length).toBeGreaterThan(0);
    for (const consumer of consumers) {
      const publish = parentOf(consumer);
      expect(publish?.kind, `${consumer.name} in ${consumer.service}`).toBe(SpanKind.PRODUCER);
      expect(parentOf(publish!), `the writer of ${publish!.name}`).toBeDefined();
    }
    const placedHandled = consumers.find((s) => s.name === 'process OrderPlaced.v1')!;
    const placedPublish = parentOf(placedHandled)!;
    expect(placedPublish.attributes['messaging.system']).toBe('bullmq');
    let writer = parentOf(placedPublish);
    while (writer && writer.kind !== SpanKind.SERVER) writer = parentOf(writer);
    expect(writer?.spanId).toBe(monolithServer!.spanId);

    // Log lines carry the ids of the span they were written in.
    const requestLine = sys
      .process('monolith')
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'request' && l.method === 'POST' && l.trace_id === traceId);
    expect(requestLine).toMatchObject({ trace_id: traceId, span_id: monolithServer!.spanId });
    expect(requestLine?.requestId).toEqual(expect.any(String));
    expect(requestLine?.traceparent).toBeUndefined();
  }, 180_000);
});
