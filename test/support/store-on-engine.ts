// A module's store alone, migrated, on either engine: a fresh SQLite folder or a fresh Postgres
// database of the test's own; `close` closes the store and drops what it made.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateModules } from '../../src/platform/data/migrate.ts';
import { openPgStore } from '../../src/platform/data/pg-store.ts';
import { openSqliteStore } from '../../src/platform/data/sqlite-store.ts';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import type { Config } from '../../src/platform/config/env.ts';
import type { ModuleSchema } from '../../src/platform/data/schema-kit.ts';
import { createTestDatabase } from './databases.ts';
import type { Engine } from './boot.ts';

export async function storeOn(engine: Engine, schema: ModuleSchema): Promise<{ store: ModuleStore; close: () => Promise<void> }> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), `${schema.module}-store-`));
    await migrateModules([schema], { storeEngine: 'sqlite', DATA_DIR: dir } as Config);
    const store = openSqliteStore(schema, { dataDir: dir });
    return { store, close: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
  }
  const database = await createTestDatabase();
  await migrateModules([schema], { storeEngine: 'pg', DATABASE_URL: database.url } as Config);
  const store = openPgStore(schema, { url: database.url, poolMax: 2 });
  return { store, close: async () => (await store.close(), await database.drop()) };
}

/** `store`, but its single-statement writes go through `writeStatement` (which may call the store's own). */
export function withWriteStatement(store: ModuleStore, writeStatement: ModuleStore['writeStatement']): ModuleStore {
  return Object.assign(Object.create(store) as ModuleStore, { writeStatement });
}
