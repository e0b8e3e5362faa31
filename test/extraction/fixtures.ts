// The extraction tests' system: counter (stays in the monolith) calls warehouse (the module that
// leaves) through its contract, and each hears the other's events.
import type { ModuleDefinition } from '../../src/platform/modules/define-module.ts';
import { counterManifest } from '../fixtures/modules/counter/index.ts';
import { warehouseManifest } from '../fixtures/modules/warehouse/index.ts';

export const fixtureManifests = [counterManifest, warehouseManifest];

export const fixtureLoaders: Record<string, () => Promise<ModuleDefinition>> = {
  counter: async () => (await import('../fixtures/modules/counter/module.ts')).counterModule as unknown as ModuleDefinition,
  warehouse: async () => (await import('../fixtures/modules/warehouse/module.ts')).warehouseModule as unknown as ModuleDefinition,
};

export async function loadFixture(name: string): Promise<ModuleDefinition> {
  const load = fixtureLoaders[name];
  if (!load) throw new Error(`no fixture module ${name}`);
  return load();
}

/** The fixture system as child processes, for test/support/topologies.ts. */
export const fixtureDeployables = {
  manifests: fixtureManifests,
  monolith: { entry: 'test/extraction/fixture-deployable.ts', args: ['monolith'] },
  service: (module: string) => ({ entry: 'test/extraction/fixture-deployable.ts', args: [module] }),
  load: (names: string[]) => Promise.all(names.map(loadFixture)),
};
