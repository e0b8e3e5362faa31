// One module alone as a deployable (`npm run service -- <module>`): its routes, its contract on the
// internal endpoint, probes, /metrics, its own store and the BullMQ bus. Every other module is a
// manifest here, reached through the topology. Takes the system's manifests and a loader, so the
// platform still knows no module and tests can run fixture modules the same way.
import { loadConfig, ConfigError, type Config } from '../config/env.ts';
import { runUntilSignalled } from './process-lifecycle.ts';
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

/** The ModuleDefinition a module.ts exports, whatever its export is called. */
export function pickModuleDefinition(exports: Record<string, unknown>): ModuleDefinition {
  const def = Object.values(exports).find((v) => {
    const d = v as Partial<ModuleDefinition> | null;
    return !!d && typeof d === 'object' && typeof d.setup === 'function' && !!d.manifest && !!d.schema;
  });
  if (!def) throw new Error('module.ts exports no module definition (defineModule)');
  return def as ModuleDefinition;
}

/**
 * The whole life of a service process: config (BUS defaults to bullmq), the app, drain on
 * SIGTERM. src/service.ts and the bundle `npm run extract` builds both end here.
 */
export async function runServiceMain(o: {
  module: string | undefined;
  manifests: readonly ModuleManifest[];
  load: (module: string) => Promise<ModuleDefinition>;
}): Promise<void> {
  if (!o.module) {
    console.error('usage: npm run service -- <module>   (or set SERVICE_MODULE)');
    process.exit(64); // EX_USAGE
  }
  try {
    const config = loadConfig({ BUS: 'bullmq', ...process.env });
    const app = await createServiceApp({ config, module: o.module, manifests: o.manifests, load: o.load });
    await runUntilSignalled(app);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UnknownModule) {
      console.error(err.message);
      process.exit(err instanceof ConfigError ? 78 : 64);
    }
    console.error(err);
    process.exit(1);
  }
}
