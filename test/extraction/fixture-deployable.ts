// A real deployable over the fixture modules, for tests that need process boundaries, started
// through the same hooks and bootstrap as the real ones:
//   node test/extraction/fixture-deployable.ts monolith     every fixture module the topology keeps local
//   node test/extraction/fixture-deployable.ts <module>     that module alone, as npm run service does
import '../../src/platform/observability/instrumentation-hook.ts';
import '../../src/platform/kernel/load-drizzle-as-commonjs.ts';

const { bootstrap } = await import('../../src/platform/kernel/bootstrap.ts');
const { fixtureSystem } = await import('./fixtures.ts');
await bootstrap({ system: fixtureSystem, run: process.argv[2] ?? 'monolith' });
