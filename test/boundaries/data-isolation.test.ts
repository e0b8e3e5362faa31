// Each module owns its data, and that is a database fact, not a convention.
// Table-driven over every module under src/modules/ that has tables (db/schema.ts), migrated with
// the same migrateModules that `npm run migrate` and the embedded start use.
// - Postgres: each module's role reads and writes its own schema and gets "permission denied"
//   on every other module's tables.
// - SQLite: each module's store is its own file, other modules' tables do not exist in it, and
//   its connections refuse ATTACH DATABASE (the one way SQL could reach another file).
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/platform/config/env.ts';
import { migrateModules } from '../../src/platform/data/migrate.ts';
import { moduleDatabaseUrl, moduleRole, rolePrefix } from '../../src/platform/data/module-roles.ts';
import type { ModuleSchema } from '../../src/platform/data/schema-kit.ts';
import { openSqliteStore, sqliteFile } from '../../src/platform/data/sqlite-store.ts';
import { createTestDatabase } from '../support/databases.ts';
import { repoRoot } from '../support/processes.ts';

async function moduleSchemas(): Promise<ModuleSchema[]> {
  const dir = join(repoRoot, 'src/modules');
  const schemas: ModuleSchema[] = [];
  for (const module of readdirSync(dir).sort()) {
    const file = join(dir, module, 'db/schema.ts');
    if (!existsSync(file)) continue;
    const exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const schema = Object.values(exports).find((v): v is ModuleSchema => typeof (v as ModuleSchema)?.tables === 'function');
    if (schema) schemas.push(schema);
  }
  return schemas;
}

const PERMISSION_DENIED = '42501';

describe('on Postgres each module role reaches its own schema only', () => {
  let db: { url: string; drop: () => Promise<void> };
  let admin: pg.Client;
  let schemas: ModuleSchema[];
  /** Every table of every module schema, as the admin sees them. */
  let tables: { schema: string; table: string }[];
  const passwordEnv = 'PG_PASSWORD_';

  beforeAll(async () => {
    schemas = await moduleSchemas();
    db = await createTestDatabase();
    const first = schemas[0]!.module;
    process.env[`${passwordEnv}${first.toUpperCase()}`] = `${first}-secret`;
    try {
      await migrateModules(schemas, { storeEngine: 'pg', DATABASE_URL: db.url } as Config);
    } finally {
      delete process.env[`${passwordEnv}${first.toUpperCase()}`];
    }
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    const res = await admin.query<{ schema: string; table: string }>(
      `SELECT table_schema AS schema, table_name AS table FROM information_schema.tables
        WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE' ORDER BY 1, 2`,
      [schemas.map((s) => s.module)],
    );
    tables = res.rows;
  });

  afterAll(async () => {
    await admin?.end();
    await db?.drop();
  });

  it('has at least two modules with tables to compare', () => {
    expect(schemas.length).toBeGreaterThanOrEqual(2);
    for (const s of schemas) expect(tables.some((t) => t.schema === s.module), `${s.module} has tables`).toBe(true);
  });

  it("denies each module's role every other module's tables, and lets it use its own", async () => {
    for (const schema of schemas) {
      const client = new pg.Client({ connectionString: moduleDatabaseUrl(db.url, schema.module, { useRoles: true }) });
      await client.connect();
      try {
        expect((await client.query('SELECT current_user AS u')).rows[0].u).toBe(moduleRole(rolePrefix(db.url), schema.module));
        for (const t of tables) {
          const query = client.query(`SELECT * FROM "${t.schema}"."${t.table}" LIMIT 1`);
          if (t.schema === schema.module) await expect(query, `${schema.module} reads its ${t.table}`).resolves.toBeDefined();
          else await expect(query, `${schema.module} reading ${t.schema}.${t.table}`).rejects.toMatchObject({ code: PERMISSION_DENIED });
        }
        for (const other of schemas.filter((s) => s.module !== schema.module)) {
          const table = tables.find((t) => t.schema === other.module)!;
          await expect(client.query(`DELETE FROM "${table.schema}"."${table.table}"`)).rejects.toMatchObject({ code: PERMISSION_DENIED });
          await expect(client.query(`CREATE TABLE "${other.module}".planted (id int)`)).rejects.toMatchObject({ code: PERMISSION_DENIED });
        }
        // Unqualified names resolve in its own schema; it cannot create shared tables or schemas.
        expect((await client.query("SHOW search_path")).rows[0].search_path.replaceAll(`"`, "")).toBe(schema.module);
        await expect(client.query('CREATE TABLE public.planted (id int)')).rejects.toMatchObject({ code: PERMISSION_DENIED });
        await expect(client.query('CREATE SCHEMA planted')).rejects.toMatchObject({ code: PERMISSION_DENIED });
      } finally {
        await client.end();
      }
    }
  });

  it('gives a module role no membership in another role and no superpowers', async () => {
    const res = await admin.query<{ rolname: string; rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean; member_of: number }>(
      `SELECT r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb,
              (SELECT count(*)::int FROM pg_auth_members m WHERE m.member = r.oid) AS member_of
         FROM pg_roles r WHERE r.rolname = ANY($1)`,
      [schemas.map((s) => moduleRole(rolePrefix(db.url), s.module))],
    );
    expect(res.rows).toHaveLength(schemas.length);
    for (const r of res.rows) expect(r).toMatchObject({ rolsuper: false, rolcreaterole: false, rolcreatedb: false, member_of: 0 });
  });

  it('sets a module role password from PG_PASSWORD_<MODULE> when given', async () => {
    const role = moduleRole(rolePrefix(db.url), schemas[0]!.module);
    const res = await admin.query<{ hashed: boolean }>(`SELECT rolpassword IS NOT NULL AS hashed FROM pg_authid WHERE rolname = $1`, [role]);
    expect(res.rows[0]?.hashed).toBe(true);
  });
});

describe('module roles belong to one database', () => {
  it('gives two databases on one cluster their own roles, so migrating one never changes the other’s passwords', async () => {
    const schemas = (await moduleSchemas()).slice(0, 1);
    const module = schemas[0]!.module;
    const variable = `PG_PASSWORD_${module.toUpperCase()}`;
    const [a, b] = [await createTestDatabase(), await createTestDatabase()];
    const migrateWith = async (url: string, password: string) => {
      process.env[variable] = password;
      try {
        await migrateModules(schemas, { storeEngine: 'pg', DATABASE_URL: url } as Config);
      } finally {
        delete process.env[variable];
      }
    };
    const connectsAs = async (url: string, password: string) => {
      const u = new URL(moduleDatabaseUrl(url, module, { useRoles: true }));
      u.password = password;
      const c = new pg.Client({ connectionString: u.toString() });
      try {
        await c.connect();
        return (await c.query('SELECT current_user AS u')).rows[0].u as string;
      } finally {
        await c.end().catch(() => undefined);
      }
    };
    try {
      await migrateWith(a.url, 'first-password');
      await migrateWith(b.url, 'second-password');
      expect(moduleRole(rolePrefix(a.url), module)).not.toBe(moduleRole(rolePrefix(b.url), module));
      // Trust auth on this cluster accepts any password, so compare the stored hashes instead.
      const admin = new pg.Client({ connectionString: a.url });
      await admin.connect();
      try {
        const hashes = await admin.query<{ rolname: string; rolpassword: string }>(
          'SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1)',
          [[moduleRole(rolePrefix(a.url), module), moduleRole(rolePrefix(b.url), module)]],
        );
        expect(hashes.rows).toHaveLength(2);
        expect(new Set(hashes.rows.map((r) => r.rolpassword)).size).toBe(2);
      } finally {
        await admin.end();
      }
      expect(await connectsAs(a.url, 'first-password')).toBe(moduleRole(rolePrefix(a.url), module));
      // A configured prefix wins over the derived one.
      expect(moduleRole(rolePrefix(a.url, 'shop_live'), module)).toBe(`shop_live_${module}`);
    } finally {
      await a.drop();
      await b.drop();
    }
  });
});

describe('on SQLite each module store is its own file and reaches no other', () => {
  let dir: string;
  let schemas: ModuleSchema[];

  beforeAll(async () => {
    schemas = await moduleSchemas();
    dir = mkdtempSync(join(tmpdir(), 'isolation-'));
    await migrateModules(schemas, { storeEngine: 'sqlite', DATA_DIR: dir } as Config);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps one file per module', () => {
    expect(readdirSync(dir).filter((f) => f.endsWith('.sqlite')).sort()).toEqual(schemas.map((s) => `${s.module}.sqlite`).sort());
  });

  it("finds no other module's tables through a module's store, and refuses ATTACH on both its connections", async () => {
    const ownTables = new Map<string, string[]>();
    for (const schema of schemas) {
      const store = openSqliteStore(schema, { dataDir: dir });
      try {
        const rows = (store.db as unknown as { all(q: unknown): { name: string }[] }).all(
          sql.raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 7) <> 'sqlite_'`),
        );
        ownTables.set(schema.module, rows.map((r) => r.name));
      } finally {
        await store.close();
      }
    }
    const moduleTables = (m: string) => {
      const shared = new Set([...ownTables.values()].reduce((a, b) => a.filter((x) => b.includes(x))));
      return ownTables.get(m)!.filter((t) => !shared.has(t)); // the platform's outbox/inbox tables exist in every file
    };

    for (const schema of schemas) {
      const store = openSqliteStore(schema, { dataDir: dir });
      const reader = store.db as unknown as { all(q: unknown): unknown[]; run(q: unknown): unknown };
      try {
        for (const other of schemas.filter((s) => s.module !== schema.module)) {
          for (const table of moduleTables(other.module).filter((t) => !ownTables.get(schema.module)!.includes(t))) {
            expect(() => reader.all(sql.raw(`SELECT * FROM "${table}"`)), `${schema.module} reading ${other.module}.${table}`).toThrow(
              /no such table/,
            );
          }
          const attach = sql.raw(`ATTACH DATABASE '${sqliteFile(dir, other.module)}' AS other`);
          expect(() => reader.run(attach)).toThrow(expect.objectContaining({ cause: expect.objectContaining({ name: 'AttachRefused' }) }));
          await expect(
            store.transaction(async (tx) => (tx as unknown as { run(q: unknown): unknown }).run(attach)),
          ).rejects.toMatchObject({ cause: { name: 'AttachRefused' } });
          await expect(
            store.transaction(async (tx) => (tx as unknown as { run(q: unknown): unknown }).run(sql.raw(`/* sneaky */ attach '${sqliteFile(dir, other.module)}' as o`))),
          ).rejects.toMatchObject({ cause: { name: 'AttachRefused' } });
        }
      } finally {
        await store.close();
      }
    }
  });
});
