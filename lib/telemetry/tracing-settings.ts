// What the standard OTEL_* variables ask of tracing, read once and checked. Nothing is exported
// unless an OTLP endpoint (or OTEL_TRACES_EXPORTER) is set: a deployable started without any of
// them keeps propagating W3C trace context and stamping logs with trace ids, and records nothing.
import type { BatchSpanProcessorOptions } from '@opentelemetry/sdk-trace';

export const samplerNames = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type SamplerName = (typeof samplerNames)[number];

export type TraceExporterKind = 'otlp' | 'console';
export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface TracingSettings {
  /** Undefined: spans are not recorded, only their context travels. */
  exporter: TraceExporterKind | undefined;
  protocol: OtlpProtocol;
  /** OTEL_TRACES_SAMPLER, checked; built by start-tracing.ts once the SDK is loaded. */
  sampler: SamplerName;
  /** OTEL_TRACES_SAMPLER_ARG for the ratio samplers. */
  ratio: number;
  batch: Omit<BatchSpanProcessorOptions, 'exporter'>;
}

/** A variable the SDK cannot honour: start-up stops naming it, like any other bad setting. */
export class TracingSettingsError extends Error {
  override name = 'TracingSettingsError';
}

type Env = Readonly<Record<string, string | undefined>>;

const set = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

function exporterOf(env: Env): TraceExporterKind | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const named = env.OTEL_TRACES_EXPORTER?.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean) ?? [];
  if (named.length === 0) return set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) || set(env.OTEL_EXPORTER_OTLP_ENDPOINT) ? 'otlp' : undefined;
  if (named.includes('none')) return undefined;
  if (named.length > 1) throw new TracingSettingsError(`OTEL_TRACES_EXPORTER: one exporter at a time (otlp, console or none), not "${env.OTEL_TRACES_EXPORTER}"`);
  if (named[0] === 'otlp' || named[0] === 'console') return named[0];
  throw new TracingSettingsError(`OTEL_TRACES_EXPORTER: "${named[0]}" is not supported here; use otlp, console or none`);
}

function protocolOf(env: Env): OtlpProtocol {
  const p = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim();
  if (p === 'http/protobuf' || p === 'http/json') return p;
  throw new TracingSettingsError(`OTEL_EXPORTER_OTLP_PROTOCOL: "${p}" is not supported; OTLP goes over HTTP here (http/protobuf or http/json)`);
}

function ratioOf(env: Env): number {
  if (!set(env.OTEL_TRACES_SAMPLER_ARG)) return 1;
  const r = Number(env.OTEL_TRACES_SAMPLER_ARG);
  if (!Number.isFinite(r) || r < 0 || r > 1) throw new TracingSettingsError(`OTEL_TRACES_SAMPLER_ARG: a ratio between 0 and 1, not "${env.OTEL_TRACES_SAMPLER_ARG}"`);
  return r;
}

function samplerOf(env: Env): SamplerName {
  const name = (env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on').trim().toLowerCase();
  if ((samplerNames as readonly string[]).includes(name)) return name as SamplerName;
  throw new TracingSettingsError(`OTEL_TRACES_SAMPLER: "${name}" is not one of ${samplerNames.join(', ')}`);
}

function positive(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (!set(raw)) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new TracingSettingsError(`${name}: a positive whole number, not "${raw}"`);
  return n;
}

export function tracingSettings(env: Env = process.env): TracingSettings {
  const exporter = exporterOf(env);
  return {
    exporter,
    protocol: protocolOf(env),
    sampler: samplerOf(env),
    ratio: ratioOf(env),
    // The batch processor's standard variables (the SDK itself no longer reads them).
    batch: {
      scheduledDelayMillis: positive(env, 'OTEL_BSP_SCHEDULE_DELAY'),
      exportTimeoutMillis: positive(env, 'OTEL_BSP_EXPORT_TIMEOUT'),
      maxQueueSize: positive(env, 'OTEL_BSP_MAX_QUEUE_SIZE'),
      maxExportBatchSize: positive(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
    },
  };
}

/** Whether OTEL_* asks for spans to be exported (cheap: the start-up hook decides with it). */
export function exportRequested(env: Env = process.env): boolean {
  return exporterOf(env) !== undefined;
}
