import { requireScope } from '../../../platform/auth/caller.ts';
import type { IdempotencyKey } from '../../../platform/http/idempotency.ts';
import { UnknownSku } from '../contract.ts';
import { StockRestocked } from '../events.ts';
import { stockView, type InventoryDeps } from './inventory-deps.ts';

export async function restock(deps: InventoryDeps, sku: string, quantity: number, threshold: number | undefined, key: IdempotencyKey) {
  requireScope('admin');
  return deps.unitOfWork(async (uow) => {
    const row = await deps.stock.restock(uow.db, sku, quantity, threshold, deps.clock.now());
    await uow.publish(StockRestocked, { sku, quantity, onHand: row.onHand });
    const view = stockView(row);
    await key.record(uow, { status: 200, body: view });
    return view;
  });
}

export async function getStock(deps: InventoryDeps, sku: string) {
  const row = await deps.stock.find(deps.store.db, sku);
  if (!row) throw new UnknownSku(`No stock is kept for ${sku}`, { skus: [sku] });
  return stockView(row);
}
