import { createProduct, type NewProduct } from '../domain/product.ts';
import type { CatalogDeps } from './catalog-deps.ts';

export const demoProducts: NewProduct[] = [
  { sku: 'TEA-GREEN-100', name: 'Sencha green tea, 100 g', priceMinor: 1250, currency: 'EUR', description: 'Steamed Japanese green tea' },
  { sku: 'TEA-BLACK-250', name: 'Assam black tea, 250 g', priceMinor: 1490, currency: 'EUR', description: 'Malty breakfast tea' },
  { sku: 'MUG-STONE', name: 'Stoneware mug', priceMinor: 1800, currency: 'EUR', description: 'Hand-glazed, 350 ml' },
  { sku: 'KETTLE-GOOSE', name: 'Gooseneck kettle', priceMinor: 5900, currency: 'EUR', description: 'Pour-over kettle, 1 l' },
  { sku: 'FILTER-PAPER', name: 'Paper filters, 100 pcs', priceMinor: 450, currency: 'EUR', description: 'Unbleached' },
  { sku: 'GRINDER-HAND', name: 'Hand grinder', priceMinor: 7400, currency: 'EUR', description: 'Ceramic burrs' },
];

/** Loads the demo products once; running it again changes nothing. Seeding announces no events. */
export async function seedProducts(deps: CatalogDeps): Promise<number> {
  const now = deps.clock.now();
  return deps.unitOfWork(async (uow) => {
    let added = 0;
    for (const p of demoProducts) if (await deps.products.insert(uow.db, createProduct(p, now))) added++;
    return added;
  });
}
