// The libraries this app uses, instrumented. ES modules are intercepted through
// import-in-the-middle's in-thread loader hooks (module.registerHooks, like the drizzle hook), for
// these packages only, so the rest of the graph loads untouched. Each instrumentation takes its
// tracer from the global provider, which bootstrap registers once it knows the deployable's name.
import { register } from 'import-in-the-middle/register-hooks.mjs';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';

// Probes and scrapes every few seconds would bury the requests people look for.
const unobserved = /^\/(health\/|metrics$)/;

register({ include: ['express', 'pg', 'pg-pool', 'ioredis', 'http', 'https', 'node:http', 'node:https'] });

registerInstrumentations({
  instrumentations: [
    new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => unobserved.test(req.url ?? '') }),
    new UndiciInstrumentation(),
    // One span for the route's handler, none per middleware: the edge's dozen middlewares would
    // otherwise be a dozen spans per request and cost more than the rest of tracing together.
    new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER] }),
    // Statements and Redis commands only inside a traced piece of work: BullMQ's polling and the
    // relay's idle reads would otherwise each start a trace of their own.
    new PgInstrumentation({ requireParentSpan: true }),
    new IORedisInstrumentation({ requireParentSpan: true }),
  ],
});
