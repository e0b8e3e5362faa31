// A module booted alone through the platform's harness, on either engine: a fresh Postgres
// database of the test's own (dropped, with its roles, on close), or a fresh SQLite folder.
import { bootModule, type HarnessOptions, type ModuleHarness } from '../../src/platform/testing/module-harness.ts';
import type { Module } from '../../src/platform/modules/define-module.ts';
import { createTestDatabase } from './databases.ts';
import type { Engine } from './boot.ts';

export async function moduleOn(engine: Engine, module: Module, options: HarnessOptions = {}): Promise<ModuleHarness> {
  if (engine === 'sqlite') return bootModule(module, options);
  const db = await createTestDatabase();
  const h = await bootModule(module, { ...options, env: { ...options.env, DATABASE_URL: db.url } });
  return {
    ...h,
    async close() {
      await h.close();
      await db.drop();
    },
  };
}
