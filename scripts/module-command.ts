// `node scripts/module-command.ts <module> <command>`: runs one of a module's admin commands
// (declared in its module.ts) against its own store, as a one-off process.
// `npm run projections:rebuild` is `orders rebuild-history`.
import { loadConfig, ConfigError } from '../src/platform/config/env.ts';
import { openModuleStore } from '../src/platform/data/open-store.ts';
import { migrateModules } from '../src/platform/data/migrate.ts';
import { createLogger } from '../src/platform/logging/logger.ts';
import { system } from '../src/composition-root.ts';
import { loadModuleSettings } from '../src/platform/config/settings.ts';

const [moduleName, command] = process.argv.slice(2);
try {
  if (!moduleName || !command) throw new Error('usage: node scripts/module-command.ts <module> <command>');
  const config = loadConfig();
  const def = await system.load(moduleName);
  const run = def.commands[command];
  if (!run) throw new Error(`${moduleName} has no command "${command}"; it has: ${Object.keys(def.commands).join(', ') || 'none'}`);
  const settings = loadModuleSettings(def);
  if (config.storeEngine === 'sqlite') await migrateModules([def.schema], config);
  const store = await openModuleStore(def.schema, config, `command:${moduleName}`);
  try {
    console.log(await run({ config, settings, logger: createLogger(config.LOG_LEVEL, { command }), store }));
  } finally {
    await store.close();
  }
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : (err as Error).message);
  process.exit(1);
}
