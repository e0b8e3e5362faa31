// A system: every module's public manifest, and how to load the implementation of the ones a
// deployable runs. The monolith, an extracted service and its generated bundle all start from
// one of these (src/composition-root.ts, or a bundle's own with a single module in it).
import type { Module } from './define-module.ts';
import type { ModuleManifest } from './manifest.ts';

export interface SystemDefinition {
  readonly manifests: readonly ModuleManifest[];
  /** The implementation of one module; only the modules a deployable runs are ever loaded. */
  load(name: string): Promise<Module>;
}

export class UnknownModule extends Error {
  override name = 'UnknownModule';
}

export function systemOf(manifests: readonly ModuleManifest[], loaders: Readonly<Record<string, () => Promise<Module>>>): SystemDefinition {
  return {
    manifests,
    async load(name) {
      const load = loaders[name];
      if (!load) throw new UnknownModule(`Unknown module "${name}"; known: ${Object.keys(loaders).join(', ') || '(none)'}`);
      const module = await load();
      if (module.manifest.name !== name) throw new Error(`The module loaded for "${name}" declares itself as "${module.manifest.name}"`);
      return module;
    },
  };
}

export async function loadAll(system: SystemDefinition, names: readonly string[] = system.manifests.map((m) => m.name)): Promise<Module[]> {
  return Promise.all(names.map((n) => system.load(n)));
}
