// The monolith: every module in one process (flow 1). Started through main.ts.
import { loadConfig, ConfigError } from './platform/config/env.ts';
import { createApp } from './platform/kernel/create-app.ts';
import { runUntilSignalled } from './platform/kernel/process-lifecycle.ts';
import { manifests } from './manifests.ts';
import { loadModules } from './composition-root.ts';

try {
  const config = loadConfig();
  const modules = await loadModules(manifests.map((m) => m.name));
  const app = await createApp({ config, manifests, modules, deployable: 'monolith' });
  await runUntilSignalled(app);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(78); // EX_CONFIG
  }
  console.error(err);
  process.exit(1);
}
