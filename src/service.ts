// An extracted module as its own deployable (flow 2): `npm run service -- <module>`, or
// SERVICE_MODULE=<module> in a container. PORT per instance; run as many instances as you like.
// The bus defaults to BullMQ here: a module apart from the monolith only meets it through Redis.
import { loadConfig, ConfigError } from './platform/config/env.ts';
import { runUntilSignalled } from './platform/kernel/process-lifecycle.ts';
import { createServiceApp, UnknownModule } from './platform/kernel/topology-service.ts';
import { manifests } from './manifests.ts';
import { loadModules } from './composition-root.ts';

const module = process.argv[2] ?? process.env.SERVICE_MODULE;
if (!module) {
  console.error('usage: npm run service -- <module>   (or set SERVICE_MODULE)');
  process.exit(64); // EX_USAGE
}

try {
  const config = loadConfig({ BUS: 'bullmq', ...process.env });
  const app = await createServiceApp({ config, module, manifests, load: async (name) => (await loadModules([name]))[0]! });
  await runUntilSignalled(app);
} catch (err) {
  if (err instanceof ConfigError || err instanceof UnknownModule) {
    console.error(err.message);
    process.exit(err instanceof ConfigError ? 78 : 64);
  }
  console.error(err);
  process.exit(1);
}
