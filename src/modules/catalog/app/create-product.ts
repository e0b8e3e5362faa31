import { Conflict } from '../../../platform/errors/domain-error.ts';
import { requireScope } from '../../../platform/auth/caller.ts';
import type { IdempotencyKey } from '../../../platform/http/idempotency.ts';
import { createProduct, toView, type NewProduct } from '../domain/product.ts';
import { ProductCreated } from '../events.ts';
import type { CatalogDeps } from './catalog-deps.ts';

export async function addProduct(deps: CatalogDeps, input: NewProduct, key: IdempotencyKey) {
  requireScope('admin');
  const product = createProduct(input, deps.clock.now());
  const response = { status: 201, body: toView(product), headers: { Location: `/api/v1/products/${product.sku}` } };
  return deps.unitOfWork(async (uow) => {
    // The key before the product: a concurrent duplicate of this request (same key) then fails on
    // the key and is answered as a replay, rather than on the sku as a conflict.
    await key.record(uow, response);
    if (!(await deps.products.insert(uow.db, product))) throw new Conflict(`A product with sku ${input.sku} already exists`);
    await uow.publish(ProductCreated, { sku: product.sku, name: product.name, priceMinor: product.priceMinor, currency: product.currency });
    return response;
  });
}
