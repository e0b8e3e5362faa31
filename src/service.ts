// An extracted module as its own deployable (flow 2): `npm run service -- <module>`, or
// SERVICE_MODULE=<module> in a container. PORT per instance; run as many instances as you like.
// The bus defaults to BullMQ here: a module apart from the monolith only meets it through Redis.
// (`npm run extract` bundles a per-module variant of this entry that imports only that module.)
import './platform/kernel/load-drizzle-as-commonjs.ts';

// Loaded after the hook above, so drizzle-orm comes from its CommonJS build (fast start).
const { runServiceMain } = await import('./platform/kernel/topology-service.ts');
const { manifests } = await import('./manifests.ts');
const { loadModules } = await import('./composition-root.ts');

await runServiceMain({
  module: process.argv[2] ?? process.env.SERVICE_MODULE,
  manifests,
  load: async (name) => (await loadModules([name]))[0]!,
});
