// The extraction tests' system: counter (stays in the monolith) calls warehouse (the module that
// leaves) through its contract, and each hears the other's events.
import { counterManifest } from '../fixtures/modules/counter/index.ts';
import { warehouseManifest } from '../fixtures/modules/warehouse/index.ts';
import { loadAll, systemOf } from '../../src/platform/modules/system.ts';

export const fixtureManifests = [counterManifest, warehouseManifest];

export const fixtureSystem = systemOf(fixtureManifests, {
  counter: async () => (await import('../fixtures/modules/counter/module.ts')).default,
  warehouse: async () => (await import('../fixtures/modules/warehouse/module.ts')).default,
});

/** The fixture system as child processes, for test/support/topologies.ts. */
export const fixtureDeployables = {
  manifests: fixtureManifests,
  monolith: { entry: 'test/extraction/fixture-deployable.ts', args: ['monolith'] },
  service: (module: string) => ({ entry: 'test/extraction/fixture-deployable.ts', args: [module] }),
  load: (names: string[]) => loadAll(fixtureSystem, names),
};
