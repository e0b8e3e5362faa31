import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count } from 'drizzle-orm';
import { openSqliteStore } from './sqlite-store.ts';
import Database from 'better-sqlite3';
import { defineSchema } from './schema-kit.ts';
import { NestedTransactionError } from './module-store.ts';

const widgetSchema = defineSchema('widgets', (k) => ({
  products: k.table('products', { sku: k.text('sku').primaryKey(), name: k.text('name').notNull() }),
}));

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

async function store() {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-store-'));
  dirs.push(dir);
  const raw = new Database(join(dir, 'widgets.sqlite'));
  raw.exec('CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT NOT NULL)');
  raw.close();
  return openSqliteStore(widgetSchema, { dataDir: dir });
}

const row = (sku: string) => ({ sku, name: sku });

describe('SQLite unit of work', () => {
  it('never interleaves two concurrent async transactions', async () => {
    const s = await store();
    const log: string[] = [];
    const work = (name: string) =>
      s.transaction(async (tx) => {
        log.push(`${name}:begin`);
        await tx.insert(s.tables.products).values(row(name));
        await new Promise((r) => setTimeout(r, 5));
        log.push(`${name}:end`);
      });
    await Promise.all(['A', 'B', 'C'].map(work));
    expect(log).toEqual(['A:begin', 'A:end', 'B:begin', 'B:end', 'C:begin', 'C:end']);
    await s.close();
  });

  it('rolls back everything when the callback throws, and the next transaction still works', async () => {
    const s = await store();
    await expect(
      s.transaction(async (tx) => {
        await tx.insert(s.tables.products).values(row('GONE'));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('KEPT'));
    });
    const rows = await s.db.select({ sku: s.tables.products.sku }).from(s.tables.products);
    expect(rows).toEqual([{ sku: 'KEPT' }]);
    await s.close();
  });

  it('reads only committed data while a transaction is open', async () => {
    const s = await store();
    let seenInside = -1;
    await s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('PENDING'));
      seenInside = (await s.db.select({ n: count() }).from(s.tables.products))[0]!.n;
    });
    expect(seenInside).toBe(0);
    expect((await s.db.select({ n: count() }).from(s.tables.products))[0]!.n).toBe(1);
    await s.close();
  });

  it('refuses writes on the read handle and nested transactions', async () => {
    const s = await store();
    await expect(Promise.resolve().then(() => s.db.insert(s.tables.products).values(row('NO')))).rejects.toThrow(/readonly|query_only|attempt to write/i);
    await expect(s.transaction(() => s.transaction(async () => 1))).rejects.toBeInstanceOf(NestedTransactionError);
    await s.close();
  });
});
