import { Conflict } from '../../../platform/errors/domain-error.ts';
import { requireScope } from '../../../platform/auth/caller.ts';
import { ProductNotFound } from '../contract.ts';
import { changeProduct, toView, type ProductChanges } from '../domain/product.ts';
import { ProductUpdated } from '../events.ts';
import type { CatalogDeps } from './catalog-deps.ts';

export async function updateProduct(deps: CatalogDeps, sku: string, changes: ProductChanges, expectedVersion?: number) {
  requireScope('admin');
  return deps.unitOfWork(async (uow) => {
    const current = await deps.products.findBySkuForUpdate(uow.db, sku);
    if (!current) throw new ProductNotFound(`No product with sku ${sku}`, { skus: [sku] });
    if (expectedVersion !== undefined && expectedVersion !== current.version) {
      throw new Conflict(`The product is at version ${current.version}, not ${expectedVersion}`);
    }
    const next = changeProduct(current, changes, deps.clock.now());
    if (!(await deps.products.update(uow.db, next, current.version))) throw new Conflict('The product changed meanwhile; retry');
    await uow.publish(ProductUpdated, { sku, name: next.name, priceMinor: next.priceMinor, currency: next.currency, version: next.version });
    return toView(next);
  });
}
