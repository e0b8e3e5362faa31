// Start-up hook: OpenTelemetry's instrumentations (http, undici, express, pg, ioredis) must be
// registered before those libraries load, so every entry point imports this file first, beside
// load-drizzle-as-commonjs.ts. Only when OTEL_* asks for export: without it nothing is patched,
// and the app pays for no wrapper on its hot path.
import { exportRequested } from '../../../lib/telemetry/index.ts';
import { markStartupHook } from '../kernel/startup-hooks.ts';

if (exportRequested()) {
  await import('./instrumentations.ts');
  markStartupHook('opentelemetry');
}
