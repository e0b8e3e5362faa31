import type { Router } from 'express';
import { strictRouter } from '../../../platform/http/strict-router.ts';
import { z } from 'zod';
import { sendStored } from '../../../platform/http/idempotency.ts';
import { route } from '../../../platform/http/route.ts';
import { NotFound, ServiceUnavailable } from '../../../platform/errors/domain-error.ts';
import { PaymentMethod } from '../../payments/index.ts';
import { Sku } from '../../catalog/index.ts';
import { MAX_UNITS_PER_SKU, mergeItems } from '../domain/order.ts';
import type { OrdersDeps } from '../app/orders-deps.ts';
import { placeOrder, UnknownProducts, UnpriceableOrder } from '../app/place-order.ts';
import { getOrder } from '../app/get-order.ts';
import { listMyOrders } from '../app/order-history.ts';
import { OrderHistory, OrderV1, OrderV2, orderV1, orderV2, PlacedOrder, v1Deprecation } from './representations.ts';

const Items = z
  .array(z.strictObject({ sku: Sku, quantity: z.number().int().min(1).max(MAX_UNITS_PER_SKU) }))
  .min(1)
  .max(50)
  // What the order really asks for is the sum per sku: refused here, not by a step of the saga later.
  .superRefine((items, ctx) => {
    for (const line of mergeItems(items)) {
      if (line.quantity <= MAX_UNITS_PER_SKU) continue;
      const first = items.findIndex((i) => i.sku === line.sku);
      ctx.addIssue({ code: 'custom', path: [first, 'quantity'], message: `the lines of ${line.sku} add up to ${line.quantity}; at most ${MAX_UNITS_PER_SKU} of one sku per order` });
    }
  })
  .transform((items) => mergeItems(items));
const PlaceOrderBody = z.strictObject({
  items: Items,
  paymentMethod: PaymentMethod.default('tok_ok'),
});
const OrderParam = z.object({ id: z.string().uuid('must be an order id') });
const WaitQuery = z.strictObject({
  waitSeconds: z.coerce.number().int().min(0).max(20).default(0).meta({ description: 'Hold the answer up to this many seconds while the order is PENDING: it comes as soon as the order is CONFIRMED or CANCELLED' }),
});
const HistoryQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: 'How many, newest first' }) });

export function ordersRoutes(deps: OrdersDeps, idempotencyTtlSeconds: number): Router {
  const r = strictRouter();

  route(r, {
    method: 'post',
    path: '/api/v1/orders',
    summary: 'Place an order; the saga then reserves stock, charges and confirms (or cancels with a reason)',
    idempotent: { store: deps.store, ttlSeconds: idempotencyTtlSeconds },
    body: PlaceOrderBody,
    responses: { 202: { description: 'Accepted: the order is PENDING until its saga ends', body: PlacedOrder, headers: { Location: { description: 'Where to follow the order' } } } },
    errors: [UnknownProducts, UnpriceableOrder, ServiceUnavailable],
    handler: async ({ body, key }, res) => {
      sendStored(res, await placeOrder(deps, body, key), false);
    },
  });

  route(r, {
    method: 'get',
    path: '/api/v1/orders/:id',
    summary: 'One of the caller’s orders (v1, flat)',
    params: OrderParam,
    deprecated: { ...v1Deprecation, successor: (p) => `/api/v2/orders/${p.id}` },
    responses: { 200: { description: 'The order', body: OrderV1 } },
    errors: [NotFound],
    handler: async ({ params }, res) => {
      res.json(orderV1(await getOrder(deps, params.id)));
    },
  });

  route(r, {
    method: 'get',
    path: '/api/v2/orders/:id',
    summary: 'One of the caller’s orders (v2: state, money and lines grouped)',
    params: OrderParam,
    query: WaitQuery,
    responses: { 200: { description: 'The order', body: OrderV2 } },
    errors: [NotFound],
    handler: async ({ params, query }, res) => {
      res.json(orderV2(await getOrder(deps, params.id, query.waitSeconds * 1000)));
    },
  });

  route(r, {
    method: 'get',
    path: '/api/v1/customers/me/orders',
    summary: 'The caller’s order history (read model)',
    query: HistoryQuery,
    responses: { 200: { description: 'The newest orders first', body: OrderHistory } },
    handler: async ({ query }, res) => {
      res.json(await listMyOrders(deps, query.limit));
    },
  });

  return r;
}
