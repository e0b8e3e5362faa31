// The kernel bench's trace sink counts what the app's exporter sends: spans exported by the real
// OTLP/HTTP protobuf exporter, in several batches, resources and scopes, reach its count exactly.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { countSpans } from './trace-sink.ts';

let sink: ChildProcess | undefined;
afterAll(() => {
  sink?.kill();
});

function ask<T>(child: ChildProcess, msg?: string): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => reject(new Error(`the sink exited (${code})`)));
    if (msg) child.send(msg);
  });
}

describe('the kernel bench trace sink', () => {
  it('counts every span the OTLP protobuf exporter sends it, across batches, resources and scopes', async () => {
    sink = fork(join(import.meta.dirname, 'trace-sink.ts'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const { port } = await ask<{ port: number }>(sink);
    const providers = ['svc-a', 'svc-b'].map(
      (name) =>
        new TracerProvider({
          resource: resourceFromAttributes({ 'service.name': name }),
          spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `http://127.0.0.1:${port}/v1/traces` }), maxExportBatchSize: 64, scheduledDelayMillis: 10 })],
        }),
    );
    let made = 0;
    for (const [i, provider] of providers.entries()) {
      for (const scope of ['one', 'two']) {
        const tracer = provider.getTracer(scope);
        for (let n = 0; n < 150 + i * 7; n++, made++) tracer.startSpan(`span ${n}`, { attributes: { 'http.route': '/api/v1/products/:sku', n } }).end();
      }
    }
    for (const p of providers) await p.forceFlush();
    const counted = await ask<{ bytes: number; spans: number }>(sink, 'count');
    expect(made).toBe(614);
    expect(counted.spans).toBe(made);
    expect(counted.bytes).toBeGreaterThan(made * 20);
    for (const p of providers) await p.shutdown();
  });

  it('refuses a body that is not a protobuf message rather than counting it', () => {
    expect(countSpans(Buffer.alloc(0))).toBe(0);
    expect(() => countSpans(Buffer.from([0x0a, 0x05, 0x12]))).toThrow(/truncated/);
    expect(() => countSpans(Buffer.from([0x0b]))).toThrow(/wire type 3/);
    expect(() => countSpans(Buffer.from([0x09, 1, 2, 3]))).toThrow(/truncated/);
  });
});
