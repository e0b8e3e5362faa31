// One step of the saga against the contracts, and what its outcome means: move on, fail for a
// business reason (start compensating), or retry later (a dependency is down or something broke).
import { DomainError } from '../../../platform/errors/domain-error.ts';
import type { CancelReason } from '../domain/order.ts';
import type { SagaStep } from '../domain/saga.ts';
import type { OrdersDeps } from './orders-deps.ts';
import type { OrderRecord } from './get-order.ts';

export type StepOutcome = { kind: 'done' } | { kind: 'failed'; reason: CancelReason } | { kind: 'retry'; error: string };

const businessReasons: Record<string, CancelReason> = {
  OutOfStock: 'out_of_stock',
  UnknownSku: 'out_of_stock',
  ReservationClosed: 'reservation_expired',
  ReservationNotFound: 'reservation_expired',
  PaymentDeclined: 'payment_declined',
  PaymentUnavailable: 'payment_unavailable',
  PaymentClosed: 'payment_voided',
};

export async function runStep(deps: OrdersDeps, step: Exclude<SagaStep, 'confirm' | 'cancel'>, order: OrderRecord): Promise<StepOutcome> {
  const orderId = order.id;
  try {
    switch (step) {
      case 'reserve':
        await deps.inventory.reserveStock({ orderId, lines: order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })) });
        break;
      case 'charge':
        await deps.payments.charge({ orderId, customerId: order.customerId, amountMinor: order.totalMinor, currency: order.currency, paymentMethod: order.paymentMethod as 'tok_ok' });
        break;
      case 'commit':
        await deps.inventory.commitReservation({ orderId });
        break;
      case 'refund':
        await deps.payments.refund({ orderId, customerId: order.customerId });
        break;
      case 'release':
        await deps.inventory.releaseReservation({ orderId });
        break;
    }
    return { kind: 'done' };
  } catch (err) {
    const reason = err instanceof DomainError ? businessReasons[err.code] : undefined;
    // Compensations never fail for business reasons: they are retried until they go through.
    if (reason && step !== 'refund' && step !== 'release') return { kind: 'failed', reason };
    return { kind: 'retry', error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}
