// The catalog, declared: its store, its contract handlers, its routes, its seed.
import { defineModule } from '../../platform/modules/define-module.ts';
import { catalogManifest } from './index.ts';
import { catalogSchema } from './db/schema.ts';
import { productQueries } from './db/products.ts';
import type { CatalogDeps } from './app/catalog-deps.ts';
import { getProduct } from './app/get-product.ts';
import { priceItems } from './app/price-items.ts';
import { seedProducts } from './app/seed-products.ts';
import { catalogRoutes } from './http/routes.ts';

export default defineModule({
  manifest: catalogManifest,
  schema: catalogSchema,
  setup(ctx) {
    const deps: CatalogDeps = {
      store: ctx.store,
      unitOfWork: ctx.unitOfWork,
      products: productQueries(ctx.store),
      clock: ctx.clock,
    };
    return {
      handlers: {
        getProduct: ({ sku }) => getProduct(deps, sku),
        priceItems: ({ items }) => priceItems(deps, items),
      },
      routes: catalogRoutes(deps, ctx.config.IDEMPOTENCY_TTL_SECONDS),
      async seed() {
        const added = await seedProducts(deps);
        if (added) ctx.logger.info({ added }, 'demo products loaded');
      },
    };
  },
});
