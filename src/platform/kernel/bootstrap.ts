// How every deployable starts and stops, written once: the monolith (`npm start`), one module
// alone (`npm run service -- <module>`) and an extracted service's bundle all end here, after
// importing the same start-up hooks. Configuration (the platform's and each module's settings)
// is checked first and a bad one exits 78 naming every variable; then the app starts, listens on
// its public and internal ports, and drains on SIGTERM/SIGINT before exiting 0.
import { ConfigError } from '../config/env.ts';
import { loadDeployableConfig } from '../config/settings.ts';
import { loadAll, UnknownModule, type SystemDefinition } from '../modules/system.ts';
import { ServiceCredentialsMissing } from '../remote/remote-contracts.ts';
import { TopologyError } from './topology.ts';
import { serviceListenDefaults } from './service-ports.ts';
import { createApp, type RunningApp } from './create-app.ts';
import { startupHooks } from './startup-hooks.ts';
import { currentTracing, startTracing, TracingSettingsError } from '../../../lib/telemetry/index.ts';

export const MONOLITH = 'monolith';

/** The deployable name of a module run alone. */
export function serviceDeployable(module: string): string {
  return `${module}-service`;
}

export interface BootstrapOptions {
  system: SystemDefinition;
  /** `monolith`, or the one module this process runs. */
  run: string | undefined;
  env?: NodeJS.ProcessEnv;
}

const EX_USAGE = 64;
const EX_CONFIG = 78;

export async function bootstrap(o: BootstrapOptions): Promise<RunningApp | undefined> {
  if (!o.run) {
    console.error('usage: npm run service -- <module>   (or set SERVICE_MODULE)');
    process.exit(EX_USAGE);
  }
  const env = o.env ?? process.env;
  try {
    const monolith = o.run === MONOLITH;
    if (!monolith && !o.system.manifests.some((m) => m.name === o.run)) {
      throw new UnknownModule(`Unknown module "${o.run}"; known: ${o.system.manifests.map((m) => m.name).join(', ')}`);
    }
    const modules = monolith ? await loadAll(o.system) : [await o.system.load(o.run)];
    // A module apart from the monolith only meets the others through Redis: BullMQ by default; and
    // without PORT it listens where the topology says it is, never on the monolith's port.
    const { config, settings } = loadDeployableConfig(modules, monolith ? env : { BUS: 'bullmq', ...env, ...serviceListenDefaults(o.system.manifests, o.run, env) });
    const deployable = monolith ? MONOLITH : serviceDeployable(o.run);
    // Before the app: its spans, and the instrumentations registered by the start-up hook, report
    // under this deployable's name.
    const tracing = await startTracing({ serviceName: deployable, env });
    const app = await createApp({ config, settings, manifests: o.system.manifests, modules, deployable });
    app.logger.info({ hooks: startupHooks(), tracing: tracing.exporting ? 'exported' : 'propagated only' }, 'starting');
    await app.listen();
    stopOnSignals(app);
    return app;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof ServiceCredentialsMissing || err instanceof TopologyError || err instanceof TracingSettingsError) {
      console.error(err instanceof ConfigError ? err.message : `Invalid configuration:\n  - ${err.message}`);
      process.exit(EX_CONFIG);
    }
    if (err instanceof UnknownModule) {
      console.error(err.message);
      process.exit(EX_USAGE);
    }
    console.error(err);
    process.exit(1);
  }
}

/** Drain on SIGTERM/SIGINT, then exit 0; a stop that hangs is cut short. */
function stopOnSignals(app: RunningApp): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    app.logger.info({ signal }, 'draining');
    const deadline = Date.now() + app.config.SHUTDOWN_TIMEOUT_MS + 5_000;
    const guard = setTimeout(() => {
      app.logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, deadline - Date.now());
    guard.unref();
    app
      .stop()
      // Spans still buffered leave before the process does; those the collector does not take are
      // reported, and the stop, whose own work is done, still ends in 0, before the guard's deadline.
      .then(() => currentTracing()?.shutdown(deadline - 500))
      .then(
      (lost) => {
        if (lost) app.logger.warn({ err: lost }, 'spans still buffered at the stop could not be exported');
        process.exit(0);
      },
      (err) => {
        app.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
