import { ProductNotFound } from '../contract.ts';
import { toView } from '../domain/product.ts';
import type { CatalogDeps } from './catalog-deps.ts';

export async function getProduct(deps: CatalogDeps, sku: string) {
  const product = await deps.products.findBySku(deps.store.db, sku);
  if (!product) throw new ProductNotFound(`No product with sku ${sku}`, { skus: [sku] });
  return toView(product);
}
