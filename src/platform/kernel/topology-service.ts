// One module alone as a deployable (`npm run service -- <module>`): its routes, its contract on the
// internal endpoint, probes, /metrics, its own store and the BullMQ bus. Every other module is a
// manifest here, reached through the topology. Takes the system's manifests and a loader, so the
// platform still knows no module and tests can run fixture modules the same way.
import type { Config } from '../config/env.ts';
import type { ModuleDefinition } from '../modules/define-module.ts';
import type { ModuleManifest } from '../modules/manifest.ts';
import { createApp, type RunningApp } from './create-app.ts';

export class UnknownModule extends Error {
  override name = 'UnknownModule';
}

export function serviceDeployable(module: string): string {
  return `${module}-service`;
}

export async function createServiceApp(o: {
  config: Config;
  module: string;
  manifests: readonly ModuleManifest[];
  load: (module: string) => Promise<ModuleDefinition>;
}): Promise<RunningApp> {
  if (!o.manifests.some((m) => m.name === o.module)) {
    throw new UnknownModule(`Unknown module "${o.module}"; known: ${o.manifests.map((m) => m.name).join(', ')}`);
  }
  const def = await o.load(o.module);
  return createApp({ config: o.config, manifests: o.manifests, modules: [def], deployable: serviceDeployable(o.module) });
}
