// Each test file gets its own Postgres database, so module schemas never collide between files.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPgStore, type PgStoreOptions } from '../../src/platform/data/pg-store.ts';
import type { ModuleSchema } from '../../src/platform/data/schema-kit.ts';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import { sql } from 'drizzle-orm';

export function adminUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests with `npm test`, which finds or starts PostgreSQL');
  return url;
}

export function redisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set: run the tests with `npm test`, which finds or starts Redis');
  return url;
}

export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      // Module roles are cluster-wide; this database's carry its name as their prefix.
      const roles = await c.query<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)`, [`${name}_module_`]);
      for (const { rolname } of roles.rows) await c.query(`DROP ROLE IF EXISTS "${rolname}"`);
      await c.end();
    },
  };
}

/**
 * A module store on a Postgres database of the test's own, its tables made by `ddl` (the
 * platform's migrations are not run); close() closes the store and drops the database.
 */
export async function pgStoreWith<T extends Record<string, unknown>>(schema: ModuleSchema<T>, ddl: string, poolMax = 4, options: Omit<PgStoreOptions, 'url' | 'poolMax'> = {}) {
  const database = await createTestDatabase();
  const c = new pg.Client({ connectionString: database.url });
  await c.connect();
  await c.query(ddl);
  await c.end();
  const store = openPgStore(schema, { ...options, url: database.url, poolMax });
  return {
    store,
    url: database.url,
    async close() {
      await store.close();
      await database.drop();
    },
  };
}

/**
 * Holds one of `store`'s connections with a unit of work that has sent a statement and waits:
 * with a pool of one, whatever asks for a connection next waits until `release()`, which resolves
 * once that unit has ended.
 */
export async function holdConnection(store: ModuleStore): Promise<{ release(): Promise<void> }> {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let holding!: () => void;
  const held = new Promise<void>((r) => (holding = r));
  const unit = store.transaction(async (tx) => {
    await tx.execute(sql`select 1`);
    holding();
    await gate;
  });
  await held;
  return {
    release() {
      open();
      return unit;
    },
  };
}
