// A module's public surface, as data: what it offers (contract, events, public HTTP paths) and
// what it needs (contracts it calls, events it consumes). Every deployable knows every manifest;
// implementations are loaded only where a module runs. Boundary checks, the extract script, the
// architecture docs and event routing all read these.
import type { Contract } from '../contracts/define-contract.ts';
import type { EventDefinition } from '../bus/define-event.ts';

export interface ModuleManifest {
  readonly name: string;
  /** What the bounded context is and what it owns, in a sentence. */
  readonly purpose: string;
  readonly contract?: Contract;
  readonly publishes: readonly EventDefinition[];
  readonly subscribes: readonly EventDefinition[];
  /** Names of the modules whose contracts this one calls: a declared, reviewable dependency. */
  readonly dependsOn: readonly string[];
  /** Path prefixes of its public REST routes: the proxy routes these when the module is extracted. */
  readonly publicPaths: readonly string[];
}

export function defineManifest<M extends ModuleManifest>(manifest: M): M {
  return manifest;
}
