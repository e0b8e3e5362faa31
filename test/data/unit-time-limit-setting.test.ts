// UNIT_OF_WORK_TIMEOUT_MS reaches the store the app opens, on either engine: a unit whose callback
// runs past it fails with UnitTimedOut, nothing of it is kept, and the next unit commits.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/platform/config/env.ts';
import { migrateModules } from '../../src/platform/data/migrate.ts';
import { openModuleStore } from '../../src/platform/data/open-store.ts';
import { UnitTimedOut } from '../../src/platform/data/module-store.ts';
import { ordersSchema } from '../../src/modules/orders/db/schema.ts';
import { createTestDatabase } from '../support/databases.ts';
import { testKeysEnv } from '../support/keys.ts';
import { engines } from '../support/boot.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.each(engines)('the unit of work time limit set by UNIT_OF_WORK_TIMEOUT_MS, on %s', (engine) => {
  it('fails a unit that runs past it and keeps nothing of it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'unit-limit-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    let env: Record<string, string> = { DATA_DIR: dir };
    if (engine === 'pg') {
      const database = await createTestDatabase();
      cleanups.push(database.drop);
      env = { ...env, DATABASE_URL: database.url };
    }
    const config = loadConfig({ ...testKeysEnv, ...env, UNIT_OF_WORK_TIMEOUT_MS: '1000', LOG_LEVEL: 'silent' });
    expect(config.UNIT_OF_WORK_TIMEOUT_MS).toBe(1000);
    await migrateModules([ordersSchema], config);
    const store = await openModuleStore(ordersSchema, config, 'test');
    cleanups.push(() => store.close());
    const t = store.tables.idempotencyKeys;
    const key = (k: string) => ({ scope: 'POST /x', key: k, requestHash: 'h', createdAt: new Date(), expiresAt: new Date(Date.now() + 3_600_000) });

    const stuck = store.transaction(async (tx) => {
      await tx.insert(t).values(key('stuck'));
      await new Promise(() => {}); // a callback that never settles
    });
    // Half the default's 30 s: room for a slow machine, and no chance the default did it.
    const deadline = new Promise((_, reject) => setTimeout(() => reject(new Error('the unit still ran after 15 s')), 15_000).unref());
    await expect(Promise.race([stuck, deadline])).rejects.toBeInstanceOf(UnitTimedOut);
    await store.transaction(async (tx) => {
      await tx.insert(t).values(key('next'));
    });
    expect(((await store.db.select({ key: t.key }).from(t)) as { key: string }[]).map((r) => r.key)).toEqual(['next']);
  });

  it('refuses a value it cannot honour, naming the variable', () => {
    for (const bad of ['0', '500', 'soon', String(2 ** 31)]) expect(() => loadConfig({ ...testKeysEnv, UNIT_OF_WORK_TIMEOUT_MS: bad, LOG_LEVEL: 'silent' })).toThrow(/UNIT_OF_WORK_TIMEOUT_MS/);
  });
});
