// One module alone as a deployable (`npm run service -- <module>`, or SERVICE_MODULE=<module> in
// a container): its routes, its contract on the internal port, probes, metrics, its own store and
// the BullMQ bus. The same hooks and the same bootstrap as the monolith; an extracted service's
// bundle (scripts/extract-bundle.ts) is this file with one module in its system.
import './platform/kernel/compile-cache.ts';
import './platform/observability/instrumentation-hook.ts';
import './platform/kernel/load-drizzle-as-commonjs.ts';

const { bootstrap } = await import('./platform/kernel/bootstrap.ts');
const { system } = await import('./composition-root.ts');
await bootstrap({ system, run: process.argv[2] ?? process.env.SERVICE_MODULE });
