import { newId } from '../../../platform/data/ids.ts';
import { requireCaller } from '../../../platform/auth/caller.ts';
import { currentContext } from '../../../platform/context/request-context.ts';
import { currentTraceparent } from '../../../platform/observability/trace-context.ts';
import { defineError, ServiceUnavailable } from '../../../platform/errors/domain-error.ts';
import type { IdempotencyKey } from '../../../platform/http/idempotency.ts';
import { MixedCurrencies, ProductNotFound } from '../../catalog/index.ts';
import { OrderPlaced } from '../events.ts';
import { happyPath } from '../domain/saga.ts';
import type { OrderLine } from '../domain/order.ts';
import type { OrdersDeps } from './orders-deps.ts';
import type { OrderRecord, SagaRow } from '../db/schema.ts';

export const UnknownProducts = defineError<{ skus: string[] }>('UnknownProducts', 422, 'Some items are not in the catalog');
export const UnpriceableOrder = defineError('UnpriceableOrder', 422, 'The items cannot be priced together');

export interface PlaceOrder {
  items: { sku: string; quantity: number }[];
  paymentMethod: string;
}

/**
 * The saga's first step runs while the request is answered: pricing from the catalog, so an
 * unknown sku is refused with a 4xx and nothing is written. The order, its saga and OrderPlaced
 * then commit together (with the idempotency key), and the rest runs in the background.
 */
export async function placeOrder(deps: OrdersDeps, cmd: PlaceOrder, key: IdempotencyKey) {
  const customer = requireCaller();
  let priced;
  try {
    priced = await deps.catalog.priceItems({ items: cmd.items });
  } catch (err) {
    if (err instanceof ProductNotFound) throw new UnknownProducts((err as Error).message, err.details as { skus: string[] });
    if (err instanceof MixedCurrencies) throw new UnpriceableOrder('The items are priced in different currencies');
    if (err instanceof ServiceUnavailable) throw new ServiceUnavailable('The catalog is unavailable; the order was not placed. Retry with the same Idempotency-Key.');
    throw err;
  }
  const id = newId();
  const now = deps.clock.now();
  const lines: OrderLine[] = priced.lines;
  const order: OrderRecord = {
    id, customerId: customer.sub, status: 'PENDING', reason: null, lines, totalMinor: priced.totalMinor, currency: priced.currency,
    paymentMethod: cmd.paymentMethod, createdAt: now, updatedAt: now,
  };
  const response = { status: 202, body: { id, status: 'PENDING' as const }, headers: { Location: `/api/v1/orders/${id}` } };
  const ctx = currentContext();
  // Written already leased to this instance's runner when it has room: it drives the saga as soon
  // as this commits, with no claim. A crash before it finishes leaves the lease to run out, and
  // then any instance's poll resumes it, as for any saga a crashed instance was driving.
  const lease = deps.sagas.leaseForNew(id);
  const saga: SagaRow = {
    orderId: id, plan: happyPath, reason: null, attempts: 0, nextAttemptAt: now, startedAt: now, updatedAt: now, done: false,
    correlationId: ctx?.correlationId ?? id, traceparent: currentTraceparent() ?? null, lastError: null,
    leaseOwner: lease?.leaseOwner ?? null, leaseUntil: lease?.leaseUntil ?? null,
  };
  try {
    await deps.unitOfWork(async (uow) => {
      // Nothing here needs their answers: on Postgres they go out in one round trip with the BEGIN, the event and the COMMIT.
      await deps.statements.insertOrder.later(uow.db, order);
      await deps.statements.insertSaga.later(uow.db, saga);
      await uow.publish(OrderPlaced, {
        orderId: id, customerId: customer.sub, totalMinor: priced.totalMinor, currency: priced.currency, placedAt: now.toISOString(),
        lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPriceMinor: l.unitPriceMinor })),
      });
      await key.record(uow, response);
    });
  } catch (err) {
    deps.sagas.abandon(id);
    throw err;
  }
  deps.sagas.driveNow(id, order, saga);
  return response;
}
