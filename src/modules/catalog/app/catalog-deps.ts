import type { ModuleStore } from '../../../platform/data/module-store.ts';
import type { Clock } from '../../../platform/modules/clock.ts';
import type { RunUnitOfWork } from '../../../platform/bus/unit-of-work.ts';
import type { CatalogTables } from '../db/schema.ts';
import type { ProductQueries } from '../db/products.ts';

/** What the catalog's use cases run on: its own store, its unit of work and its queries. */
export interface CatalogDeps {
  store: ModuleStore<CatalogTables>;
  unitOfWork: RunUnitOfWork;
  products: ProductQueries;
  clock: Clock;
}
