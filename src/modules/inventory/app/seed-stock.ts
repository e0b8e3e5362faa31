import type { InventoryDeps } from './inventory-deps.ts';

/** Shelf stock for the demo catalog; the kettle starts low so a low-stock notice is easy to see. */
const demoStock: [sku: string, onHand: number, threshold: number][] = [
  ['TEA-GREEN-100', 100, 10],
  ['TEA-BLACK-250', 100, 10],
  ['MUG-STONE', 40, 5],
  ['KETTLE-GOOSE', 3, 2],
  ['FILTER-PAPER', 500, 20],
  ['GRINDER-HAND', 10, 3],
];

export async function seedStock(deps: InventoryDeps): Promise<number> {
  return deps.unitOfWork(async (uow) => {
    let added = 0;
    for (const [sku, onHand, threshold] of demoStock) {
      if (await deps.stock.find(uow.db, sku)) continue;
      await deps.stock.restock(uow.db, sku, onHand, threshold, deps.clock.now());
      added++;
    }
    return added;
  });
}
