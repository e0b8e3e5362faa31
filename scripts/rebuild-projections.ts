// `npm run projections:rebuild`: empties the order-history read model and rebuilds it from the
// orders module's own published events (Q20). Safe to run while the app runs.
import { loadConfig, ConfigError } from '../src/platform/config/env.ts';
import { openModuleStore } from '../src/platform/data/open-store.ts';
import { migrateModules } from '../src/platform/data/migrate.ts';
import { ordersSchema } from '../src/modules/orders/db/schema.ts';
import { rebuildHistory } from '../src/modules/orders/app/order-history.ts';

try {
  const config = loadConfig();
  if (config.storeEngine === 'sqlite') await migrateModules([ordersSchema], config);
  const store = openModuleStore(ordersSchema, config, 'projections-rebuild');
  const replayed = await rebuildHistory(store);
  await store.close();
  console.log(`order history rebuilt from ${replayed} event(s)`);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
