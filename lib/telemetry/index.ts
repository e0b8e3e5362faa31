// Tracing shared by every deployable (the app, extracted services and the proxy): one way to read
// the OTEL_* variables and start a tracer provider, one AsyncLocalStorage for context. Like the
// rest of lib/ it imports nothing from src/ or proxy/.
export { ensureContextManager } from './context-manager.ts';
export { currentTracing, startTracing, stopTracing, type Tracing } from './start-tracing.ts';
export { exportRequested, tracingSettings, TracingSettingsError, type TracingSettings } from './tracing-settings.ts';
