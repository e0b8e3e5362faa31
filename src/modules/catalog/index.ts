// Catalog: the bounded context of what is for sale — products, their names and prices.
// It owns the product list; other modules hold snapshots of prices, never references to rows.
import { defineManifest } from '../../platform/modules/manifest.ts';
import { catalogContract } from './contract.ts';
import { ProductCreated, ProductUpdated } from './events.ts';

export { catalogContract, ProductNotFound, MixedCurrencies, ProductView, Sku, Currency } from './contract.ts';
export { ProductCreated, ProductUpdated } from './events.ts';

export const catalogManifest = defineManifest({
  name: 'catalog',
  purpose: 'What is for sale: products, names and prices',
  contract: catalogContract,
  publishes: [ProductCreated, ProductUpdated],
  subscribes: [],
  dependsOn: [],
  publicPaths: ['/api/v1/products'],
});
