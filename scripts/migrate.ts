// `npm run migrate [module...]`: the one-off admin process that applies each module's migrations.
// On Postgres it also creates each module's schema and login role and grants the role its
// own schema only. On the embedded default the app does this by itself at start.
import { loadConfig, ConfigError } from '../src/platform/config/env.ts';
import { migrateModules } from '../src/platform/data/migrate.ts';
import { system } from '../src/composition-root.ts';
import { loadAll } from '../src/platform/modules/system.ts';

try {
  const config = loadConfig();
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const modules = await loadAll(system, wanted.length ? wanted : undefined);
  const target = config.storeEngine === 'pg' ? new URL(config.DATABASE_URL!).pathname.slice(1) + ' (postgres)' : `${config.DATA_DIR} (sqlite)`;
  console.log(`migrating ${modules.map((m) => m.manifest.name).join(', ')} on ${target}`);
  await migrateModules(modules.map((m) => m.schema), config, { log: (line) => console.log(`  ${line}`) });
  console.log('done');
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
