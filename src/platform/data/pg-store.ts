// Postgres engine: one schema per module. A module's pool connects with the URL it is
// given — with `npm run migrate` having set up roles, that URL names the module's own role,
// which can reach its own schema only.
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { AsyncLocalStorage } from 'node:async_hooks';
import { migrationCount, migrationsFolder, MIGRATIONS_TABLE } from './migrations-folder.ts';
import { pgPlatformStatements } from './pg-platform-statements.ts';
import { NestedTransactionError, type Db, type ModuleStore } from './module-store.ts';
import type { ModuleSchema, PlatformTables } from './schema-kit.ts';

export interface PgStoreOptions {
  url: string;
  poolMax?: number;
  applicationName?: string;
}

export function openPgStore<T extends Record<string, unknown>>(
  schema: ModuleSchema<T>,
  options: PgStoreOptions,
): ModuleStore<T & PlatformTables> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax ?? 4,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: 5_000,
    application_name: options.applicationName ?? `module:${schema.module}`,
  });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', () => {});
  const pgDb = drizzle({ client: pool });
  const db = pgDb as unknown as Db;
  const tables = schema.tables('pg');
  const folder = migrationsFolder(schema, 'pg');
  const inside = new AsyncLocalStorage<true>();

  return {
    module: schema.module,
    tables,
    db,
    engine: { dialect: 'pg', pool: pgDb },
    forUpdate: (query) => query.for('update'),
    // A single statement is atomic by itself: no BEGIN/COMMIT round trips around it.
    writeStatement: (fn) => fn(db),
    platform: pgPlatformStatements(schema.module, tables, db),
    transaction(fn) {
      if (inside.getStore()) return Promise.reject(new NestedTransactionError(schema.module));
      return inside.run(true, () => pgDb.transaction((tx) => fn(tx as unknown as Db)));
    },
    async pendingMigrations() {
      const total = migrationCount(folder);
      const res = await pool.query<{ n: string | null }>(
        `SELECT CASE WHEN to_regclass($1) IS NULL THEN NULL ELSE 1 END AS n`,
        [`"${schema.module}".${MIGRATIONS_TABLE}`],
      );
      if (res.rows[0]?.n === null) return total;
      const count = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema.module}".${MIGRATIONS_TABLE}`);
      return Math.max(0, total - Number(count.rows[0]?.n ?? 0));
    },
    async ping() {
      await db.execute(sql`select 1`);
    },
    async close() {
      await pool.end();
    },
  };
}
