// The app's side of decision 29's refused groups: when the server refuses a commit group of a
// module's Postgres store, the app counts it on /metrics as pg_commit_groups_refused_total, by
// module and SQLSTATE (create-app.ts), and the units still end as they would alone. The store's
// own behaviour is test/data/pg-commit-group.test.ts; this checks the wiring an operator reads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inArray } from 'drizzle-orm';
import { bootApp, type TestApp } from '../support/boot.ts';
import { writeLater } from '../../src/platform/data/prepared-write.ts';
import type { Db, ModuleStore } from '../../src/platform/data/module-store.ts';
import type { CatalogTables } from '../../src/modules/catalog/db/schema.ts';

/** The counter's value for one module and code on an exposition, 0 when the series is absent. */
function refusedCount(exposition: string, module: string, code: string): number {
  const line = exposition.split('\n').find((l) => l.startsWith('pg_commit_groups_refused_total{') && l.includes(`module="${module}"`) && l.includes(`code="${code}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('pg_commit_groups_refused_total on a Postgres app', () => {
  let t: TestApp;
  let store: ModuleStore<CatalogTables>;
  const products = () => store.tables.products;

  beforeAll(async () => {
    t = await bootApp({ engine: 'pg', modules: ['catalog'] });
    store = t.app.stores.get('catalog') as ModuleStore<CatalogTables>;
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  const scrape = async () => (await fetch(`${t.internalUrl}/metrics`)).text();
  const product = (sku: string) => {
    const now = new Date();
    return { sku, name: sku, nameLower: sku.toLowerCase(), description: '', priceMinor: 100, currency: 'EUR', version: 1, createdAt: now, updatedAt: now };
  };
  const insertLater = (tx: Db, sku: string) => writeLater(tx, () => tx.insert(products()).values(product(sku)).execute());

  /**
   * Units of one held insert each, kept at a gate until every one has its connection, then let go
   * at once: they end in the same turn, so they go to the server as one commit group.
   */
  async function atOnce(skus: string[]) {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let started = 0;
    const all = skus.map((sku) =>
      store.transaction(async (tx) => {
        started++;
        await gate;
        await insertLater(tx, sku);
      }),
    );
    const deadline = Date.now() + 30_000;
    while (started < skus.length) {
      if (Date.now() > deadline) throw new Error(`only ${started} of ${skus.length} units started`);
      await new Promise((r) => setTimeout(r, 5));
    }
    open();
    return Promise.allSettled(all);
  }

  it('counts a group the server refused, by module and SQLSTATE, and each unit then ends as it would alone', async () => {
    await store.transaction((tx) => insertLater(tx, 'REFUSED-TAKEN'));
    const before = refusedCount(await scrape(), 'catalog', '23505');

    const outcomes = await atOnce(['REFUSED-A', 'REFUSED-TAKEN', 'REFUSED-C']);

    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const p = products();
    const kept = await store.db.select({ sku: p.sku }).from(p).where(inArray(p.sku, ['REFUSED-A', 'REFUSED-C', 'REFUSED-TAKEN'])).orderBy(p.sku);
    expect(kept.map((r) => r.sku)).toEqual(['REFUSED-A', 'REFUSED-C', 'REFUSED-TAKEN']);
    expect(refusedCount(await scrape(), 'catalog', '23505')).toBe(before + 1);
  });

  it('counts nothing for a group the server kept', async () => {
    const before = await scrape();
    const outcomes = await atOnce(['KEPT-A', 'KEPT-B']);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    const p = products();
    expect((await store.db.select({ sku: p.sku }).from(p).where(inArray(p.sku, ['KEPT-A', 'KEPT-B']))).length).toBe(2);
    const after = await scrape();
    for (const code of ['23505', '40P01', 'not-sent']) expect(refusedCount(after, 'catalog', code)).toBe(refusedCount(before, 'catalog', code));
  });
});
