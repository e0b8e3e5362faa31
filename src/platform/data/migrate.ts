// Migrations apply per module, independently (a one-off admin process, `npm run migrate`;
// on the embedded default the app runs this itself at start). On Postgres the admin connection
// also creates each module's schema and role, and grants the role its own schema only.
import Database from 'better-sqlite3';
import type pg from 'pg';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqlite } from 'drizzle-orm/better-sqlite3/migrator';
import { mkdirSync } from 'node:fs';
import type { Config } from '../config/env.ts';
import { migrationsFolder, MIGRATIONS_TABLE } from './migrations-folder.ts';
import { modulePassword, moduleRole, rolePrefix } from './module-roles.ts';
import type { ModuleSchema } from './schema-kit.ts';
import { sqliteFile } from './sqlite-store.ts';

export interface MigrateOptions {
  log?: (line: string) => void;
}

export async function migrateModules(schemas: readonly ModuleSchema[], config: Config, options: MigrateOptions = {}): Promise<void> {
  if (config.storeEngine === 'pg') {
    // Loaded only here: the embedded default never pays for the Postgres driver at start.
    const { default: pgDriver } = await import('pg');
    const pool = new pgDriver.Pool({ connectionString: config.DATABASE_URL, max: 1 });
    try {
      const prefix = rolePrefix(config.DATABASE_URL!, config.PG_ROLE_PREFIX);
      for (const schema of schemas) await migratePgModule(pool, schema, prefix, options);
    } finally {
      await pool.end();
    }
    return;
  }
  mkdirSync(config.DATA_DIR, { recursive: true });
  for (const schema of schemas) {
    const db = new Database(sqliteFile(config.DATA_DIR, schema.module));
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      migrateSqlite(drizzleSqlite({ client: db }), {
        migrationsFolder: migrationsFolder(schema, 'sqlite'),
        migrationsTable: MIGRATIONS_TABLE,
      });
      options.log?.(`${schema.module}: sqlite migrations applied`);
    } finally {
      db.close();
    }
  }
}

async function migratePgModule(pool: pg.Pool, schema: ModuleSchema, prefix: string, options: MigrateOptions): Promise<void> {
  const name = schema.module;
  const role = moduleRole(prefix, name);
  // Two migrators racing on one fresh database (parallel test files, two replicas) must not
  // both create the schema: take a transaction-free advisory lock for the module.
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`migrate:${name}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${name}"`);
    const [{ drizzle: drizzlePg }, { migrate: migratePg }] = await Promise.all([import('drizzle-orm/node-postgres'), import('drizzle-orm/node-postgres/migrator')]);
    await migratePg(drizzlePg({ client }), {
      migrationsFolder: migrationsFolder(schema, 'pg'),
      migrationsSchema: name,
      migrationsTable: MIGRATIONS_TABLE,
    });
    await ensureRole(client, role);
    await client.query(`GRANT USAGE ON SCHEMA "${name}" TO "${role}"`);
    await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "${name}" TO "${role}"`);
    await client.query(`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "${name}" TO "${role}"`);
    // The role must not create objects in the shared public schema either.
    await client.query(`REVOKE CREATE ON SCHEMA public FROM "${role}"`);
    // Unqualified names resolve in the module's own schema, never in another's.
    await client.query(`ALTER ROLE "${role}" SET search_path = "${name}"`);
    const password = modulePassword(name);
    if (password) await client.query(`ALTER ROLE "${role}" PASSWORD ${client.escapeLiteral(password)}`);
    options.log?.(`${name}: postgres migrations applied, role ${role} granted schema ${name}`);
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`migrate:${name}`]).catch(() => {});
    client.release();
  }
}

async function ensureRole(client: pg.PoolClient, role: string): Promise<void> {
  const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  if (exists.rowCount) return;
  try {
    await client.query(`CREATE ROLE "${role}" LOGIN NOINHERIT`);
  } catch (err) {
    // Roles are cluster-wide: a migrator of another database may have created it a moment ago.
    if ((err as { code?: string }).code !== '42710' && (err as { code?: string }).code !== '23505') throw err;
  }
}
