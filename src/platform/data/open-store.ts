import type { Config } from '../config/env.ts';
import type { ModuleStore } from './module-store.ts';
import type { ModuleSchema, PlatformTables } from './schema-kit.ts';
import { openSqliteStore } from './sqlite-store.ts';
import { moduleDatabaseUrl } from './module-roles.ts';
import type { CommitGroupObserver } from './pg-commit-group.ts';

/**
 * The module's own store on the engine the configuration chooses. The Postgres engine (and the
 * `pg` driver under it) loads only when chosen: the embedded default starts without it. `groups`
 * is told of each commit group a Postgres store's server refused.
 */
export async function openModuleStore<T extends Record<string, unknown>>(schema: ModuleSchema<T>, config: Config, deployable: string, groups?: CommitGroupObserver): Promise<ModuleStore<T & PlatformTables>> {
  if (config.storeEngine === 'pg') {
    const { openPgStore } = await import('./pg-store.ts');
    return openPgStore(schema, {
      url: moduleDatabaseUrl(config.DATABASE_URL!, schema.module, { useRoles: config.PG_MODULE_ROLES === 'true', prefix: config.PG_ROLE_PREFIX }),
      poolMax: config.PG_POOL_MAX,
      applicationName: `${deployable}:${schema.module}`,
      groups,
      unitTimeoutMs: config.UNIT_OF_WORK_TIMEOUT_MS,
    });
  }
  return openSqliteStore(schema, { dataDir: config.DATA_DIR, groupCommit: { unitTimeoutMs: config.UNIT_OF_WORK_TIMEOUT_MS } });
}
