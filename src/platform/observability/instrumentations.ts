// The libraries this app uses, instrumented. ES modules are intercepted through
// import-in-the-middle's in-thread loader hooks (module.registerHooks, like the drizzle hook), for
// these packages only, so the rest of the graph loads untouched. Each instrumentation takes its
// tracer from the global provider, which bootstrap registers once it knows the deployable's name.
//
// What a request costs decides what is on by default (see docs/benchmarks.md, kernel section):
// - the server span of each request is the app's own (http/request-context.ts: one span, named by
//   the matched route), not the http instrumentation's, which adds context bindings on both
//   streams and a dozen attributes per request; the http instrumentation traces outgoing calls;
// - express is off unless asked for: it wraps every layer of the router and adds a span per
//   request for the handler, and together they cost more than the rest of tracing.
// OTEL_NODE_ENABLED_INSTRUMENTATIONS / OTEL_NODE_DISABLED_INSTRUMENTATIONS (comma lists of http,
// undici, express, pg, ioredis) change the set, as with OpenTelemetry's auto-instrumentations.
import { register } from 'import-in-the-middle/register-hooks.mjs';
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';

const available: Record<string, { modules: string[]; create: () => Instrumentation }> = {
  http: { modules: ['http', 'https', 'node:http', 'node:https'], create: () => new HttpInstrumentation({ disableIncomingRequestInstrumentation: true }) },
  undici: { modules: [], create: () => new UndiciInstrumentation() },
  // One span for the route's handler, none per middleware.
  express: { modules: ['express'], create: () => new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER] }) },
  // Statements and Redis commands only inside a traced piece of work: BullMQ's polling and the
  // relay's idle reads would otherwise each start a trace of their own.
  pg: { modules: ['pg', 'pg-pool'], create: () => new PgInstrumentation({ requireParentSpan: true }) },
  ioredis: { modules: ['ioredis'], create: () => new IORedisInstrumentation({ requireParentSpan: true }) },
};

const list = (v: string | undefined) => v?.split(',').map((s) => s.trim()).filter(Boolean);
const enabled = new Set(list(process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS) ?? ['http', 'undici', 'pg', 'ioredis']);
for (const name of list(process.env.OTEL_NODE_DISABLED_INSTRUMENTATIONS) ?? []) enabled.delete(name);
const chosen = [...enabled].filter((name) => {
  if (available[name]) return true;
  console.warn(`OTEL_NODE_ENABLED_INSTRUMENTATIONS: no instrumentation named "${name}" here (${Object.keys(available).join(', ')})`);
  return false;
});

// In a deployable's bundle (scripts/extract-bundle.ts) express, pg and ioredis are inlined: there is
// no import left to intercept, and import-in-the-middle's loader would look for its own files beside
// the bundle. There the instrumentations patch what still loads through require() (Node's http),
// and pg and ioredis go untraced; the app's own spans are the same.
const fromSource = import.meta.url.endsWith('.ts');
if (fromSource) register({ include: chosen.flatMap((name) => available[name]!.modules) });
registerInstrumentations({ instrumentations: chosen.map((name) => available[name]!.create()) });
