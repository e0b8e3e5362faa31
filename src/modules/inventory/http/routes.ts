import type { Router } from 'express';
import { strictRouter } from '../../../platform/http/strict-router.ts';
import { z } from 'zod';
import { sendStored } from '../../../platform/http/idempotency.ts';
import { route } from '../../../platform/http/route.ts';
import { Sku } from '../../catalog/index.ts';
import { UnknownSku } from '../contract.ts';
import type { InventoryDeps } from '../app/inventory-deps.ts';
import { getStock, restock } from '../app/restock.ts';

const SkuParam = z.object({ sku: Sku });
const RestockBody = z.strictObject({
  quantity: z.number().int().positive().max(1_000_000),
  lowStockThreshold: z.number().int().nonnegative().max(1_000_000).optional(),
});
const Stock = z.object({
  sku: Sku,
  onHand: z.number().int().nonnegative(),
  reserved: z.number().int().nonnegative(),
  available: z.number().int().meta({ description: 'onHand minus reserved' }),
  lowStockThreshold: z.number().int().nonnegative(),
});

export function inventoryRoutes(deps: InventoryDeps, idempotencyTtlSeconds: number): Router {
  const r = strictRouter();
  route(r, {
    method: 'get',
    path: '/api/v1/inventory/:sku',
    summary: 'The stock of one sku',
    params: SkuParam,
    responses: { 200: { description: 'What is on the shelf and what is held for orders', body: Stock } },
    errors: [UnknownSku],
    handler: async ({ params }, res) => {
      res.json(await getStock(deps, params.sku));
    },
  });
  route(r, {
    method: 'post',
    path: '/api/v1/inventory/:sku/restock',
    summary: 'Put stock on the shelf',
    auth: 'admin',
    idempotent: { store: deps.store, ttlSeconds: idempotencyTtlSeconds },
    params: SkuParam,
    body: RestockBody,
    responses: { 200: { description: 'The stock after restocking', body: Stock } },
    handler: async ({ params, body, key }, res) => {
      sendStored(res, { status: 200, body: await restock(deps, params.sku, body.quantity, body.lowStockThreshold, key) }, false);
    },
  });
  return r;
}
