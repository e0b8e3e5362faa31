import { describe, expect, it } from 'vitest';
import { exportRequested, tracingSettings, TracingSettingsError } from './tracing-settings.ts';

describe('what OTEL_* asks of tracing', () => {
  it('exports nothing when no variable is set', () => {
    expect(exportRequested({})).toBe(false);
    expect(tracingSettings({}).exporter).toBeUndefined();
  });

  it('exports over OTLP/HTTP (protobuf by default) once an endpoint is set', () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toMatchObject({ exporter: 'otlp', protocol: 'http/protobuf', sampler: 'parentbased_always_on' });
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c/v1/traces', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toMatchObject({ exporter: 'otlp', protocol: 'http/json' });
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'console' }).exporter).toBe('console');
  });

  it('exports nothing when told so, whatever else is set', () => {
    expect(exportRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(exportRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });

  it('refuses what it cannot honour, naming the variable', () => {
    expect(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL/);
    expect(() => tracingSettings({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(TracingSettingsError);
    expect(() => tracingSettings({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER/);
    expect(() => tracingSettings({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
    expect(() => tracingSettings({ OTEL_BSP_SCHEDULE_DELAY: '-5' })).toThrow(/OTEL_BSP_SCHEDULE_DELAY/);
  });

  it('reads the sampler and the batch processor', () => {
    expect(tracingSettings({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25', OTEL_BSP_SCHEDULE_DELAY: '100' })).toMatchObject({
      sampler: 'parentbased_traceidratio',
      ratio: 0.25,
      batch: { scheduledDelayMillis: 100 },
    });
  });
});
