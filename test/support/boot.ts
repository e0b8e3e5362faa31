// Boots the real app on a random port against a real store: a fresh SQLite data dir, or a fresh
// Postgres database migrated the way `npm run migrate` does it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/platform/config/env.ts';
import { createApp, type RunningApp } from '../../src/platform/kernel/create-app.ts';
import { migrateModules } from '../../src/platform/data/migrate.ts';
import { mintToken } from '../../src/platform/auth/jwt.ts';
import type { Module } from '../../src/platform/modules/define-module.ts';
import type { ModuleManifest } from '../../src/platform/modules/manifest.ts';
import { manifests as systemManifests } from '../../src/manifests.ts';
import { system } from '../../src/composition-root.ts';
import { loadAll } from '../../src/platform/modules/system.ts';
import { loadDeployableConfig } from '../../src/platform/config/settings.ts';
import { testKeysEnv } from './keys.ts';
import { createTestDatabase } from './databases.ts';

export type Engine = 'sqlite' | 'pg';
export const engines: Engine[] = ['sqlite', 'pg'];

export interface BootOptions {
  engine: Engine;
  /** System modules to run (default: all). */
  modules?: string[];
  /** Run exactly these (fixture) modules instead of the system's. */
  fixtures?: Module[];
  env?: Record<string, string>;
  /** `monolith` (default), or `<module>-service` to run the given module as an extracted service (BullMQ bus). */
  deployable?: string;
  /** Reuse a store prepared earlier (a restart against the same data). */
  store?: { env: Record<string, string>; cleanup: () => Promise<void> };
}

export interface TestApp {
  app: RunningApp;
  config: Config;
  /** The public listener: /api, /health. */
  baseUrl: string;
  /** The internal listener: /metrics, /admin, /internal/contracts. */
  internalUrl: string;
  /** Stops the app and removes its data. */
  close(): Promise<void>;
  token(sub: string, scopes?: string[]): Promise<string>;
  /** The env an out-of-process run against the same store would need. */
  storeEnv: Record<string, string>;
  store: { env: Record<string, string>; cleanup: () => Promise<void> };
  /** Stops the app but keeps its data, for a restart. */
  stopOnly(): Promise<void>;
}

export async function prepareStore(engine: Engine, schemas: Module['schema'][]): Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }> {
  if (engine === 'pg') {
    const db = await createTestDatabase();
    const env = { DATABASE_URL: db.url };
    await migrateModules(schemas, loadConfig({ ...env, ...testKeysEnv, LOG_LEVEL: 'silent' }));
    return { env, cleanup: db.drop };
  }
  const dir = mkdtempSync(join(tmpdir(), 'test-data-'));
  return { env: { DATA_DIR: dir }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

export async function bootApp(options: BootOptions): Promise<TestApp> {
  const modules = options.fixtures ?? (await loadAll(system, options.modules));
  // A module tested alone sees a system made of just the modules it runs with.
  // A module tested alone sees a system made of the modules it runs with and the manifests of
  // those they declare (unbound here: a call to one fails, as it would with the module missing).
  const runs = modules.map((m) => m.manifest);
  const declared = systemManifests.filter((s) => !runs.some((r) => r.name === s.name) && runs.some((r) => r.dependsOn.includes(s.name)));
  const manifests: ModuleManifest[] = options.fixtures ? runs : options.modules ? [...runs, ...declared] : systemManifests;
  const store = options.store ?? (await prepareStore(options.engine, modules.map((m) => m.schema)));
  const { config, settings } = loadDeployableConfig(modules, { LOG_LEVEL: 'silent', SEED: 'false', NODE_ENV: 'test', ...testKeysEnv, ...store.env, ...options.env });
  const app = await createApp({ config, settings, manifests, modules, deployable: options.deployable ?? 'monolith' });
  const { port, internalPort } = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    config,
    baseUrl: `http://127.0.0.1:${port}`,
    internalUrl: `http://127.0.0.1:${internalPort}`,
    storeEnv: store.env,
    store,
    stopOnly: () => app.stop(),
    async close() {
      await app.stop();
      await store.cleanup();
    },
    token: (sub, scopes = []) => mintToken({ sub, scopes, secret: config.jwtSecret! }),
  };
}
