import type { Config } from '../config/env.ts';
import type { ModuleStore } from './module-store.ts';
import type { ModuleSchema, PlatformTables } from './schema-kit.ts';
import { openSqliteStore } from './sqlite-store.ts';
import { moduleDatabaseUrl } from './module-roles.ts';

/**
 * The module's own store on the engine the configuration chooses. The Postgres engine (and the
 * `pg` driver under it) loads only when chosen: the embedded default starts without it.
 */
export async function openModuleStore<T extends Record<string, unknown>>(schema: ModuleSchema<T>, config: Config, deployable: string): Promise<ModuleStore<T & PlatformTables>> {
  if (config.storeEngine === 'pg') {
    const { openPgStore } = await import('./pg-store.ts');
    return openPgStore(schema, {
      url: moduleDatabaseUrl(config.DATABASE_URL!, schema.module, { useRoles: config.PG_MODULE_ROLES === 'true', prefix: config.PG_ROLE_PREFIX }),
      poolMax: config.PG_POOL_MAX,
      applicationName: `${deployable}:${schema.module}`,
    });
  }
  return openSqliteStore(schema, { dataDir: config.DATA_DIR });
}
