// REST adapter: HTTP in, use case, HTTP out. Nothing else lives here.
import type { Router } from 'express';
import { strictRouter } from '../../../platform/http/strict-router.ts';
import { z } from 'zod';
import { plainText } from '../../../platform/contracts/text.ts';
import { sendStored } from '../../../platform/http/idempotency.ts';
import { route } from '../../../platform/http/route.ts';
import { Conflict } from '../../../platform/errors/domain-error.ts';
import { Currency, ProductNotFound, ProductView, Sku } from '../contract.ts';
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
  after: Sku.optional().meta({ description: 'Cursor: the nextCursor of the previous page (the last sku it listed)' }),
  limit: z.coerce.number().int().min(1).max(100).default(20).meta({ description: 'Page size' }),
});
const ProductPage = z.object({
  items: z.array(ProductView),
  nextCursor: Sku.nullable().meta({ description: 'Pass as `after` for the next page; null on the last page' }),
});
const location = { Location: { description: 'Where the product now lives' } };

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
  const store = { store: deps.store, ttlSeconds: idempotencyTtlSeconds };

  route(r, {
    method: 'get',
    path: '/api/v1/products',
    summary: 'List products, filtered, a page at a time',
    query: ListQuery,
    responses: { 200: { description: 'One page of products, in sku order', body: ProductPage } },
    handler: async ({ query: q }, res) => {
      res.json(await listProducts(deps, { q: q.q, currency: q.currency, minPriceMinor: q.minPrice, maxPriceMinor: q.maxPrice, after: q.after, limit: q.limit }));
    },
  });

  route(r, {
    method: 'get',
    path: '/api/v1/products/:sku',
    summary: 'One product',
    params: SkuParam,
    responses: { 200: { description: 'The product', body: ProductView } },
    errors: [ProductNotFound],
    handler: async ({ params }, res) => {
      res.json(await getProduct(deps, params.sku));
    },
  });

  route(r, {
    method: 'post',
    path: '/api/v1/products',
    summary: 'Add a product to the catalog',
    auth: 'admin',
    idempotent: store,
    body: CreateBody,
    responses: { 201: { description: 'The product was added', body: ProductView, headers: location } },
    errors: [Conflict],
    handler: async ({ body, key }, res) => {
      sendStored(res, await addProduct(deps, body, key), false);
    },
  });

  route(r, {
    method: 'patch',
    path: '/api/v1/products/:sku',
    summary: 'Change a product (optimistic concurrency with expectedVersion)',
    auth: 'admin',
    params: SkuParam,
    body: PatchBody,
    responses: { 200: { description: 'The product as changed', body: ProductView } },
    errors: [ProductNotFound, Conflict],
    handler: async ({ params, body }, res) => {
      const { expectedVersion, ...changes } = body;
      res.json(await updateProduct(deps, params.sku, changes, expectedVersion));
    },
  });

  return r;
}
