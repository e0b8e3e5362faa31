import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from './sqlite-store.ts';
import { checkpointWorkerRunning } from './wal-checkpointer.ts';
import { defineSchema } from './schema-kit.ts';

const widgetSchema = defineSchema('widgets', (k) => ({
  products: k.table('products', { sku: k.text('sku').primaryKey(), name: k.text('name').notNull() }),
}));

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function storeWithOneRow() {
  const dir = mkdtempSync(join(tmpdir(), 'wal-checkpointer-'));
  dirs.push(dir);
  const raw = new Database(join(dir, 'widgets.sqlite'));
  raw.exec(`CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT NOT NULL); INSERT INTO products VALUES ('KEPT', 'kept')`);
  raw.close();
  return { file: join(dir, 'widgets.sqlite'), store: openSqliteStore(widgetSchema, { dataDir: dir }) };
}

describe('background WAL checkpoints', () => {
  it('starts no worker thread for a store that has only read, or committed nothing, and starts one at the first write', async () => {
    const { file, store: s } = storeWithOneRow();
    expect(checkpointWorkerRunning()).toBe(false);

    // What a warm start does: reads, and seeding that finds its rows already there.
    await s.db.select().from(s.tables.products);
    await s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values({ sku: 'KEPT', name: 'kept' }).onConflictDoNothing();
    });
    expect(checkpointWorkerRunning()).toBe(false);

    // The first write that reaches the WAL: ~3 MB, far below the writer's own checkpoint threshold,
    // so only the worker can move it into the database file, and no later commit is needed for it.
    const name = 'x'.repeat(2000);
    await s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(Array.from({ length: 1500 }, (_, i) => ({ sku: `W-${i}`, name })));
    });
    expect(checkpointWorkerRunning()).toBe(true);
    const deadline = Date.now() + 5000;
    while (statSync(file).size < 2_500_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(statSync(file).size).toBeGreaterThan(2_500_000);
    await s.close();
  });

});
