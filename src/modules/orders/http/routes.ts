import type { Response, Router } from 'express';
import { strictRouter } from '../../../platform/http/strict-router.ts';
import { z } from 'zod';
import { parseOrThrow } from '../../../platform/errors/validation.ts';
import { idempotent, sendStored } from '../../../platform/http/idempotency.ts';
import { PaymentMethod } from '../../payments/index.ts';
import { Sku } from '../../catalog/index.ts';
import { MAX_UNITS_PER_SKU, mergeItems } from '../domain/order.ts';
import type { OrdersDeps } from '../app/orders-deps.ts';
import { placeOrder } from '../app/place-order.ts';
import { getOrder } from '../app/get-order.ts';
import { listMyOrders } from '../app/order-history.ts';
import { orderV1, orderV2, v1Deprecation } from './representations.ts';

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
const HistoryQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) });

function deprecatedV1(res: Response, successor: string) {
  res.setHeader('Deprecation', v1Deprecation.deprecation);
  res.setHeader('Sunset', v1Deprecation.sunset);
  res.setHeader('Link', `<${successor}>; rel="successor-version"`);
}

export function ordersRoutes(deps: OrdersDeps, idempotencyTtlSeconds: number): Router {
  const r = strictRouter();

  r.post(
    '/api/v1/orders',
    idempotent(deps.store, idempotencyTtlSeconds, async (req, res, key) => {
      const body = parseOrThrow(PlaceOrderBody, req.body, 'body');
      sendStored(res, await placeOrder(deps, body, key), false);
    }),
  );

  r.get('/api/v1/orders/:id', async (req, res) => {
    const { id } = parseOrThrow(OrderParam, req.params, 'path');
    deprecatedV1(res, `/api/v2/orders/${id}`);
    res.json(orderV1(await getOrder(deps, id)));
  });

  r.get('/api/v2/orders/:id', async (req, res) => {
    const { id } = parseOrThrow(OrderParam, req.params, 'path');
    res.json(orderV2(await getOrder(deps, id)));
  });

  r.get('/api/v1/customers/me/orders', async (req, res) => {
    const { limit } = parseOrThrow(HistoryQuery, req.query, 'query');
    res.json(await listMyOrders(deps, limit));
  });

  return r;
}
