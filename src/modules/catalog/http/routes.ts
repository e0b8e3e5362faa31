// REST adapter: HTTP in, use case, HTTP out. Nothing else lives here.
import type { Router } from 'express';
import { strictRouter } from '../../../platform/http/strict-router.ts';
import { z } from 'zod';
import { parseOrThrow } from '../../../platform/errors/validation.ts';
import { plainText } from '../../../platform/contracts/text.ts';
import { requireScope } from '../../../platform/auth/caller.ts';
import { idempotent, sendStored } from '../../../platform/http/idempotency.ts';
import { Currency, Sku } from '../contract.ts';
import type { CatalogDeps } from '../app/catalog-deps.ts';
import { listProducts } from '../app/list-products.ts';
import { getProduct } from '../app/get-product.ts';
import { addProduct } from '../app/create-product.ts';
import { updateProduct } from '../app/update-product.ts';

const ListQuery = z.object({
  q: plainText({ max: 100 }).optional(),
  currency: Currency.optional(),
  minPrice: z.coerce.number().int().nonnegative().optional(),
  maxPrice: z.coerce.number().int().nonnegative().optional(),
  after: Sku.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

const Name = plainText({ max: 200 }).trim().min(1);
const Price = z.number().int().nonnegative().max(100_000_000);
const CreateBody = z.strictObject({
  sku: Sku,
  name: Name,
  description: plainText({ max: 2000, multiline: true }).optional(),
  priceMinor: Price,
  currency: Currency,
});
const PatchBody = z
  .strictObject({
    name: Name.optional(),
    description: plainText({ max: 2000, multiline: true }).optional(),
    priceMinor: Price.optional(),
    currency: Currency.optional(),
    expectedVersion: z.number().int().positive().optional(),
  })
  .refine((b) => Object.keys(b).some((k) => k !== 'expectedVersion'), 'name at least one field to change');
const SkuParam = z.object({ sku: Sku });

export function catalogRoutes(deps: CatalogDeps, idempotencyTtlSeconds: number): Router {
  const r = strictRouter();

  r.get('/api/v1/products', async (req, res) => {
    const q = parseOrThrow(ListQuery, req.query, 'query');
    res.json(await listProducts(deps, { q: q.q, currency: q.currency, minPriceMinor: q.minPrice, maxPriceMinor: q.maxPrice, after: q.after, limit: q.limit }));
  });

  r.get('/api/v1/products/:sku', async (req, res) => {
    const { sku } = parseOrThrow(SkuParam, req.params, 'path');
    res.json(await getProduct(deps, sku));
  });

  r.post(
    '/api/v1/products',
    idempotent(deps.store, idempotencyTtlSeconds, async (req, res, key) => {
      requireScope('admin');
      const body = parseOrThrow(CreateBody, req.body, 'body');
      sendStored(res, await addProduct(deps, body, key), false);
    }),
  );

  r.patch('/api/v1/products/:sku', async (req, res) => {
    requireScope('admin');
    const { sku } = parseOrThrow(SkuParam, req.params, 'path');
    const { expectedVersion, ...changes } = parseOrThrow(PatchBody, req.body, 'body');
    res.json(await updateProduct(deps, sku, changes, expectedVersion));
  });

  return r;
}
