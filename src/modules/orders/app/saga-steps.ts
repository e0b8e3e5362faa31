// One step of the saga against the contracts, and what its outcome means: move on, fail for a
// business reason (start compensating), or retry later (a dependency is down or something broke).
import { DomainError, type AnyErrorClass } from '../../../platform/errors/domain-error.ts';
import { OutOfStock, ReservationClosed, ReservationNotFound, UnknownSku } from '../../inventory/index.ts';
import { PaymentClosed, PaymentDeclined, PaymentUnavailable } from '../../payments/index.ts';
import type { CancelReason } from '../domain/order.ts';
import type { SagaStep } from '../domain/saga.ts';
import type { OrdersDeps } from './orders-deps.ts';
import type { OrderRecord } from '../db/schema.ts';

export type StepOutcome =
  | { kind: 'done' }
  | { kind: 'failed'; reason: CancelReason }
  /** `permanent`: retrying cannot help (the callee refused the request itself); an operator must look. */
  | { kind: 'retry'; error: string; permanent?: boolean };

// Other modules' errors, by their exported classes (a remote binding rebuilds the same classes):
// renaming one breaks this at compile time instead of turning cancellations into endless retries.
const businessReasons: [AnyErrorClass, CancelReason][] = [
  [OutOfStock, 'out_of_stock'],
  [UnknownSku, 'out_of_stock'],
  [ReservationClosed, 'reservation_expired'],
  [ReservationNotFound, 'reservation_expired'],
  [PaymentDeclined, 'payment_declined'],
  [PaymentUnavailable, 'payment_unavailable'],
  [PaymentClosed, 'payment_voided'],
];

const businessReasonOf = (err: DomainError) => businessReasons.find(([cls]) => err instanceof cls)?.[1];

export async function runStep(deps: OrdersDeps, step: Exclude<SagaStep, 'confirm' | 'cancel'>, order: OrderRecord): Promise<StepOutcome> {
  const orderId = order.id;
  try {
    switch (step) {
      case 'reserve':
        await deps.inventory.reserveStock({ orderId, lines: order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })) });
        break;
      case 'charge':
        // Nothing to charge for a free order; the payment contract only takes positive amounts.
        if (order.totalMinor === 0) break;
        await deps.payments.charge({ orderId, customerId: order.customerId, amountMinor: order.totalMinor, currency: order.currency, paymentMethod: order.paymentMethod as 'tok_ok' });
        break;
      case 'commit':
        await deps.inventory.commitReservation({ orderId });
        break;
      case 'refund':
        if (order.totalMinor === 0) break;
        await deps.payments.refund({ orderId, customerId: order.customerId });
        break;
      case 'release':
        await deps.inventory.releaseReservation({ orderId });
        break;
    }
    return { kind: 'done' };
  } catch (err) {
    return classify(step, err);
  }
}

const compensating = (step: SagaStep) => step === 'refund' || step === 'release';

function classify(step: SagaStep, err: unknown): StepOutcome {
  const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  if (!(err instanceof DomainError)) return { kind: 'retry', error };
  // The provider was not even called (circuit open, bulkhead full): wait rather than cancel.
  if (err instanceof PaymentUnavailable && (err.details as { retryLater?: boolean } | undefined)?.retryLater) return { kind: 'retry', error };
  const reason = businessReasonOf(err);
  // Compensations never fail for business reasons: they are retried until they go through.
  if (reason && !compensating(step)) return { kind: 'failed', reason };
  // The callee refused the request itself (a 4xx that is not a business outcome): repeating it
  // cannot help. Forward steps give up and compensate; a compensation is parked for an operator.
  if (err.status >= 400 && err.status < 500 && !reason) {
    return compensating(step) ? { kind: 'retry', error, permanent: true } : { kind: 'failed', reason: 'rejected' };
  }
  return { kind: 'retry', error };
}
