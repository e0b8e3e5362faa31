// One table definition feeds both engines; these tests fail when the committed migrations no
// longer match it (someone changed db/schema.ts without `npm run db:generate`), or when the two
// engines' snapshots disagree on tables or columns. drizzle-kit's own diff runs in-process.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateDrizzleJson, generateMigration, generateSQLiteDrizzleJson, generateSQLiteMigration } from 'drizzle-kit/api';
import { repoRoot } from '../../../test/support/processes.ts';
import { defineSchema, type ModuleSchema } from './schema-kit.ts';

// System modules, and the fixture modules the tests use.
const modules = ['src/modules', 'test/fixtures/modules']
  .flatMap((d) => readdirSync(join(repoRoot, d)).map((m) => ({ module: m, file: join(repoRoot, d, m, 'db/schema.ts') })))
  .filter((m) => existsSync(m.file));

async function schemaOf(file: string): Promise<ModuleSchema> {
  const exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  return Object.values(exports).find((v) => typeof (v as ModuleSchema)?.tables === 'function') as ModuleSchema;
}

function latestSnapshot(dir: string) {
  const metas = readdirSync(join(dir, 'meta')).filter((f) => f.endsWith('_snapshot.json')).sort();
  return JSON.parse(readFileSync(join(dir, 'meta', metas[metas.length - 1]!), 'utf8'));
}

/** The SQL drizzle-kit would generate now: empty when the committed migrations are current. */
async function pendingStatements(schema: ModuleSchema) {
  const pg = await generateMigration(latestSnapshot(join(schema.migrationsDir, 'pg')), generateDrizzleJson(schema.tables('pg') as Record<string, unknown>));
  const sqlite = await generateSQLiteMigration(latestSnapshot(join(schema.migrationsDir, 'sqlite')), await generateSQLiteDrizzleJson(schema.tables('sqlite') as Record<string, unknown>));
  return { pg, sqlite };
}

describe.each(modules)('schema of $module', ({ module, file }) => {
  it('has committed migrations for both engines that match its table definition', async () => {
    const pending = await pendingStatements(await schemaOf(file));
    expect(pending, `run npm run db:generate ${module} and commit the result`).toEqual({ pg: [], sqlite: [] });
  });

  it('has the same tables, columns, nullability and keys on SQLite and Postgres', async () => {
    const schema = await schemaOf(file);
    const shape = (dialect: string) => {
      const snap = latestSnapshot(join(schema.migrationsDir, dialect)) as {
        tables: Record<string, { name: string; columns: Record<string, { name: string; notNull: boolean; primaryKey: boolean }> }>;
      };
      return Object.fromEntries(
        Object.values(snap.tables).map((t) => [t.name, Object.fromEntries(Object.values(t.columns).map((c) => [c.name, { notNull: c.notNull || c.primaryKey }]))]),
      );
    };
    expect(shape('sqlite')).toEqual(shape('pg'));
  });
});

describe('the migration check', () => {
  it('notices a column added without generating a migration', async () => {
    const catalog = await schemaOf(join(repoRoot, 'src/modules/catalog/db/schema.ts'));
    const changed = defineSchema(
      'catalog',
      (k) => ({
        products: k.table('products', {
          sku: k.text('sku').primaryKey(),
          name: k.text('name').notNull(),
          nameLower: k.text('name_lower').notNull(),
          description: k.text('description').notNull().default(''),
          priceMinor: k.bigint('price_minor').notNull(),
          currency: k.text('currency').notNull(),
          version: k.int('version').notNull(),
          createdAt: k.timestamp('created_at').notNull(),
          updatedAt: k.timestamp('updated_at').notNull(),
          colour: k.text('colour'),
        }, (t) => [k.index('products_currency_idx').on(t.currency, t.sku)]),
      }),
      { migrationsDir: 'migrations/catalog' },
    );
    expect(await pendingStatements(catalog)).toEqual({ pg: [], sqlite: [] });
    const pending = await pendingStatements(changed);
    expect(pending.pg.join('\n')).toMatch(/ADD COLUMN "colour"/);
    expect(pending.sqlite.join('\n')).toMatch(/ADD `colour`/);
  });
});
