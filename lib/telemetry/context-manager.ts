// One AsyncLocalStorage for everything a piece of work carries: OpenTelemetry's context holds
// the active span and, beside it, the app's own request context (ids, caller). Registered on
// first use, so code that never starts tracing (a unit test, a script) still keeps its context
// across awaits; a second registration attempt is a no-op.
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

let registered = false;

export function ensureContextManager(): void {
  if (registered) return;
  registered = true;
  const manager = new AsyncLocalStorageContextManager();
  // false: another copy registered one first (say, a test harness); theirs serves us as well.
  if (context.setGlobalContextManager(manager)) manager.enable();
}
