import { toView } from '../domain/product.ts';
import type { ProductFilter } from '../db/products.ts';
import type { CatalogDeps } from './catalog-deps.ts';

/** Catalog reads are the AP side — they read the module's own store and never call out. */
export async function listProducts(deps: CatalogDeps, filter: ProductFilter) {
  // One extra row tells whether there is a next page without a count query.
  const rows = await deps.products.list(deps.store.db, { ...filter, limit: filter.limit + 1 });
  const page = rows.slice(0, filter.limit);
  return {
    items: page.map(toView),
    nextCursor: rows.length > filter.limit ? page[page.length - 1]!.sku : null,
  };
}
