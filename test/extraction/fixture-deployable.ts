// A real deployable over the fixture modules, for tests that need process boundaries:
//   node test/extraction/fixture-deployable.ts monolith     every fixture module the topology keeps local
//   node test/extraction/fixture-deployable.ts <module>     that module alone, as npm run service does
import { loadConfig } from '../../src/platform/config/env.ts';
import { createApp } from '../../src/platform/kernel/create-app.ts';
import { createServiceApp } from '../../src/platform/kernel/topology-service.ts';
import { runUntilSignalled } from '../../src/platform/kernel/process-lifecycle.ts';
import { fixtureManifests, loadFixture } from './fixtures.ts';

const which = process.argv[2] ?? 'monolith';
const config = loadConfig();
const app =
  which === 'monolith'
    ? await createApp({ config, manifests: fixtureManifests, modules: await Promise.all(fixtureManifests.map((m) => loadFixture(m.name))), deployable: 'monolith' })
    : await createServiceApp({ config, module: which, manifests: fixtureManifests, load: loadFixture });
await runUntilSignalled(app);
