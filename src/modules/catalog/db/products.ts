// The catalog's queries. Every function takes the handle it should run on: the store's read
// handle, or a unit of work's transaction.
import { and, asc, eq, gt, gte, inArray, like, lte, sql, type SQL } from 'drizzle-orm';
import type { Db, ModuleStore } from '../../../platform/data/module-store.ts';
import type { Product } from '../domain/product.ts';
import type { CatalogTables } from './schema.ts';
import { inList, preparedRead } from '../../../platform/data/prepared-read.ts';
import { fixedLimit } from '../../../platform/data/planned-once.ts';

export interface ProductFilter {
  q?: string;
  currency?: string;
  minPriceMinor?: number;
  maxPriceMinor?: number;
  after?: string;
  limit: number;
}

export function productQueries(store: ModuleStore<CatalogTables>) {
  const p = store.tables.products;
  // No LIMIT: sku is the primary key, so at most one row matches, and on SQLite a bound `LIMIT ?`
  // doubled the statement's cost (about a sixth of the lookup's CPU under load).
  const bySku = preparedRead<Product>(store as unknown as ModuleStore, 'catalog_product_by_sku', (db) => db.select().from(p).where(eq(p.sku, sql.placeholder('sku'))));
  // Pricing an order reads its products in one statement, prepared once for any number of skus.
  const bySkus = preparedRead<Product>(store as unknown as ModuleStore, 'catalog_products_by_skus', (db) => db.select().from(p).where(inList(store as unknown as ModuleStore, p.sku, 'skus')));
  return {
    async findBySku(db: Db, sku: string): Promise<Product | undefined> {
      // The store's read handle runs the statement prepared once; a unit of work's transaction builds its own.
      const rows = db === store.db ? await bySku({ sku }) : await db.select().from(p).where(eq(p.sku, sku)).limit(fixedLimit(1));
      return rows[0];
    },
    /** Reads the row for a read-modify-write inside a unit of work (locked until it ends). */
    async findBySkuForUpdate(db: Db, sku: string): Promise<Product | undefined> {
      const rows = await store.forUpdate(db.select().from(p).where(eq(p.sku, sku)).limit(fixedLimit(1)));
      return rows[0];
    },
    async findMany(db: Db, skus: string[]): Promise<Product[]> {
      if (skus.length === 0) return [];
      return db === store.db ? bySkus({ skus }) : db.select().from(p).where(inArray(p.sku, skus));
    },
    async list(db: Db, f: ProductFilter): Promise<Product[]> {
      const where: SQL[] = [];
      if (f.q) where.push(like(p.nameLower, `%${f.q.toLowerCase().replace(/[%_\\]/g, '')}%`));
      if (f.currency) where.push(eq(p.currency, f.currency));
      if (f.minPriceMinor !== undefined) where.push(gte(p.priceMinor, f.minPriceMinor));
      if (f.maxPriceMinor !== undefined) where.push(lte(p.priceMinor, f.maxPriceMinor));
      if (f.after) where.push(gt(p.sku, f.after));
      return db
        .select()
        .from(p)
        .where(where.length ? and(...where) : undefined)
        .orderBy(asc(p.sku))
        .limit(fixedLimit(f.limit));
    },
    /** Inserts unless the sku exists; says whether it inserted. */
    async insert(db: Db, product: Product): Promise<boolean> {
      const rows = await db
        .insert(p)
        .values({ ...product, nameLower: product.name.toLowerCase() })
        .onConflictDoNothing()
        .returning({ sku: p.sku });
      return rows.length === 1;
    },
    /** Optimistic update: succeeds only if nobody changed the row since `expectedVersion`. */
    async update(db: Db, product: Product, expectedVersion: number): Promise<boolean> {
      const rows = await db
        .update(p)
        .set({
          name: product.name,
          nameLower: product.name.toLowerCase(),
          description: product.description,
          priceMinor: product.priceMinor,
          currency: product.currency,
          version: product.version,
          updatedAt: product.updatedAt,
        })
        .where(and(eq(p.sku, product.sku), eq(p.version, expectedVersion)))
        .returning({ sku: p.sku });
      return rows.length === 1;
    },
  };
}

export type ProductQueries = ReturnType<typeof productQueries>;
