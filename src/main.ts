// The monolith (`npm start`): every module the topology keeps local, in one process. The start-up
// hooks load first; everything else through bootstrap, as every deployable does.
import './platform/kernel/compile-cache.ts';
import './platform/observability/instrumentation-hook.ts';
import './platform/kernel/load-drizzle-as-commonjs.ts';

const { bootstrap, MONOLITH } = await import('./platform/kernel/bootstrap.ts');
const { system } = await import('./composition-root.ts');
await bootstrap({ system, run: MONOLITH });
