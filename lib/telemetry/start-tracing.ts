// The tracer provider of a deployable. The W3C trace-context propagator always; then, only when
// OTEL_* asks for export, OpenTelemetry's SDK: a resource (service.name is the deployable unless
// OTEL_SERVICE_NAME says otherwise, plus OTEL_RESOURCE_ATTRIBUTES), the configured sampler, and a
// batch processor sending OTLP over HTTP. Without export the SDK is not even loaded: a
// propagating tracer gives each span its own ids and records nothing (propagating-tracer.ts).
import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { ensureContextManager } from './context-manager.ts';
import { PropagatingTracerProvider } from './propagating-tracer.ts';
import { PooledIdGenerator } from './random-ids.ts';
import { tracingSettings, type TracingSettings } from './tracing-settings.ts';

export interface Tracing {
  readonly serviceName: string;
  /** Spans are recorded and exported. */
  readonly exporting: boolean;
  /**
   * Flushes, then stops the exporter. Spans it could not deliver (the collector down, or refusing)
   * are telemetry lost, not a stop that failed: it answers that error for the caller to report,
   * so a process that drained its own work still exits 0. It gives up after 4 s, or at
   * `giveUpAt` (epoch ms: the caller's own stop deadline) if that comes first: the exporter
   * retries a collector that refuses for up to OTEL_EXPORTER_OTLP_TIMEOUT (10 s), longer than a
   * stop can wait once its requests drained.
   */
  shutdown(giveUpAt?: number): Promise<Error | undefined>;
}

const registry = Symbol.for('strangler.tracing');
type WithTracing = typeof globalThis & { [registry]?: Tracing };

type Env = Readonly<Record<string, string | undefined>>;

/** How long a stop waits at most for the collector to take what is buffered. */
const SHUTDOWN_WITHIN_MS = 4_000;

/** The OTLP traces URL the standard variables name (the signal-specific one wins, as the spec says). */
function tracesUrl(env: Env): string | undefined {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (specific) return specific;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

async function sdkProvider(settings: TracingSettings, env: Env, serviceName: string) {
  const sdk = await import('@opentelemetry/sdk-trace');
  const { detectResources, envDetector, resourceFromAttributes } = await import('@opentelemetry/resources');
  const ratio = () => new sdk.TraceIdRatioBasedSampler(settings.ratio);
  const sampler = {
    always_on: () => new sdk.AlwaysOnSampler(),
    always_off: () => new sdk.AlwaysOffSampler(),
    traceidratio: ratio,
    parentbased_always_on: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() }),
    parentbased_always_off: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() }),
    parentbased_traceidratio: () => new sdk.ParentBasedSampler({ root: ratio() }),
  }[settings.sampler]();
  let exporter: import('@opentelemetry/sdk-trace').SpanExporter;
  const url = tracesUrl(env);
  if (settings.exporter === 'console') exporter = new sdk.ConsoleSpanExporter();
  else if (settings.protocol === 'http/json') exporter = new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter(url ? { url } : {});
  else exporter = new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter(url ? { url } : {});
  const resource = detectResources({ detectors: [envDetector] }).merge(resourceFromAttributes({ 'service.name': serviceName }));
  return new sdk.TracerProvider({ resource, sampler, idGenerator: new PooledIdGenerator(), spanProcessors: [new sdk.BatchSpanProcessor({ ...settings.batch, exporter })] });
}

/**
 * Registers the process's tracer provider once; later calls (several apps booted in one test
 * process) get the first one back. Throws TracingSettingsError for an OTEL_* value it cannot honour.
 */
export async function startTracing(o: { serviceName: string; env?: Env }): Promise<Tracing> {
  const g = globalThis as WithTracing;
  if (g[registry]) return g[registry];
  const env = o.env ?? process.env;
  const settings = tracingSettings(env);
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || o.serviceName;
  ensureContextManager();
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  let tracing: Tracing;
  if (settings.exporter) {
    const provider = await sdkProvider(settings, env, serviceName);
    trace.setGlobalTracerProvider(provider);
    tracing = {
      serviceName,
      exporting: true,
      shutdown: (giveUpAt = Infinity) => {
        const withinMs = Math.max(0, Math.min(SHUTDOWN_WITHIN_MS, giveUpAt - Date.now()));
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<Error>((resolve) => {
          timer = setTimeout(() => resolve(new Error(`the collector did not take the buffered spans within ${withinMs} ms`)), withinMs);
          timer.unref();
        });
        const done = provider.shutdown().then(
          () => undefined,
          (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
        );
        return Promise.race([done, late]).finally(() => clearTimeout(timer));
      },
    };
  } else {
    trace.setGlobalTracerProvider(new PropagatingTracerProvider());
    tracing = { serviceName, exporting: false, shutdown: async () => undefined };
  }
  g[registry] = tracing;
  return tracing;
}

/** The provider this process registered, if any. */
export function currentTracing(): Tracing | undefined {
  return (globalThis as WithTracing)[registry];
}

/** Flushes and forgets the provider (a test that started one with its own exporter, done with it). */
export async function stopTracing(): Promise<void> {
  const g = globalThis as WithTracing;
  const t = g[registry];
  if (!t) return;
  delete g[registry];
  const lost = await t.shutdown();
  trace.disable();
  propagation.disable();
  if (lost) throw lost;
}
