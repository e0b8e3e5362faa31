import { PaymentRefunded } from '../events.ts';
import { decideRefund } from '../domain/account.ts';
import { changeAccount, type PaymentsDeps } from './payments-deps.ts';

/**
 * Compensation for a charge. A captured payment is refunded; an order never charged is voided,
 * so a charge that arrives late (its caller timed out) is refused instead of taking money.
 */
export async function refund(deps: PaymentsDeps, orderId: string, customerId: string) {
  return changeAccount(deps, customerId, orderId, (payment) => {
    const event = decideRefund(payment, orderId);
    const status = (event?.type === 'OrderVoided' ? 'voided' : 'refunded') as 'refunded' | 'voided';
    const existing = payment?.status;
    if (!event) return { events: [], result: { orderId, status: existing === 'refunded' ? 'refunded' : 'voided' } as const };
    return {
      events: [event],
      result: { orderId, status },
      announce:
        event.type === 'PaymentRefunded'
          ? (uow) => uow.publish(PaymentRefunded, { orderId, customerId, amountMinor: event.amountMinor, currency: event.currency })
          : undefined,
    };
  });
}
