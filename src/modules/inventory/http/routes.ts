import type { Router } from 'express';
import { strictRouter } from '../../../platform/http/strict-router.ts';
import { z } from 'zod';
import { parseOrThrow } from '../../../platform/errors/validation.ts';
import { requireScope } from '../../../platform/auth/caller.ts';
import { idempotent, sendStored } from '../../../platform/http/idempotency.ts';
import { Sku } from '../../catalog/index.ts';
import type { InventoryDeps } from '../app/inventory-deps.ts';
import { getStock, restock } from '../app/restock.ts';

const SkuParam = z.object({ sku: Sku });
const RestockBody = z.strictObject({
  quantity: z.number().int().positive().max(1_000_000),
  lowStockThreshold: z.number().int().nonnegative().max(1_000_000).optional(),
});

export function inventoryRoutes(deps: InventoryDeps, idempotencyTtlSeconds: number): Router {
  const r = strictRouter();
  r.get('/api/v1/inventory/:sku', async (req, res) => {
    const { sku } = parseOrThrow(SkuParam, req.params, 'path');
    res.json(await getStock(deps, sku));
  });
  r.post(
    '/api/v1/inventory/:sku/restock',
    idempotent(deps.store, idempotencyTtlSeconds, async (req, res, key) => {
      requireScope('admin');
      const { sku } = parseOrThrow(SkuParam, req.params, 'path');
      const body = parseOrThrow(RestockBody, req.body, 'body');
      sendStored(res, { status: 200, body: await restock(deps, sku, body.quantity, body.lowStockThreshold, key) }, false);
    }),
  );
  return r;
}
