import { PaymentClosed, PaymentDeclined, PaymentUnavailable } from '../contract.ts';
import { PaymentCaptured, PaymentDeclinedEvent } from '../events.ts';
import { ProviderDeclined, ProviderUnavailable } from '../provider/payment-provider.ts';
import type { OrderPayment } from '../domain/account.ts';
import type { LoadedAccount } from '../db/event-store.ts';
import { changeAccount, type PaymentsDeps } from './payments-deps.ts';

export interface ChargeCommand {
  orderId: string;
  customerId: string;
  amountMinor: number;
  currency: string;
  paymentMethod: string;
}

function earlierOutcome(p: OrderPayment | undefined, orderId: string) {
  if (!p) return undefined;
  if (p.status === 'captured') return { orderId, status: 'captured' as const, providerRef: p.providerRef! };
  if (p.status === 'declined') throw new PaymentDeclined('The payment was declined', { reason: 'card_declined' });
  throw new PaymentClosed(`The order was ${p.status}; it cannot be charged`, { status: p.status });
}

/**
 * Charges once per order. The provider call happens outside any transaction (it may take a
 * timeout's worth of time); its outcome is then recorded, and a concurrent or repeated charge
 * for the same order finds it recorded and records nothing more.
 */
export async function charge(deps: PaymentsDeps, cmd: ChargeCommand) {
  const loaded = await deps.events.load(deps.store.db, cmd.customerId, { orderId: cmd.orderId });
  const earlier = earlierOutcome(loaded.payment, cmd.orderId);
  if (earlier) return earlier;

  let providerRef: string;
  try {
    ({ providerRef } = await deps.provider.charge(
      { idempotencyKey: cmd.orderId, amountMinor: cmd.amountMinor, currency: cmd.currency, token: cmd.paymentMethod },
      new AbortController().signal,
    ));
  } catch (err) {
    if (err instanceof ProviderDeclined) {
      await changeAccount(deps, cmd.customerId, cmd.orderId, (p) => ({
        events: p ? [] : [{ type: 'PaymentDeclined', orderId: cmd.orderId, reason: err.message }],
        result: undefined,
        announce: p ? undefined : (uow) => uow.publish(PaymentDeclinedEvent, { orderId: cmd.orderId, customerId: cmd.customerId, reason: err.message }),
      }));
      throw new PaymentDeclined('The payment was declined', { reason: err.message });
    }
    const notAttempted = err instanceof ProviderUnavailable && err.notAttempted;
    throw new PaymentUnavailable(`The payment provider did not complete the charge: ${(err as Error).message}`, { retryLater: notAttempted });
  }

  try {
    return await recordCapture(deps, cmd, providerRef, loaded);
  } catch (err) {
    // The order was voided while the provider was charging (a compensation overtook a slow call):
    // the money must go back at the provider too, or the customer pays for a cancelled order.
    if (err instanceof PaymentClosed) await deps.provider.refund(providerRef, new AbortController().signal);
    throw err;
  }
}

function recordCapture(deps: PaymentsDeps, cmd: ChargeCommand, providerRef: string, loaded: LoadedAccount) {
  return changeAccount(deps, cmd.customerId, cmd.orderId, (p) => {
    const already = earlierOutcome(p, cmd.orderId);
    if (already) return { events: [], result: already };
    return {
      events: [{ type: 'PaymentCaptured', orderId: cmd.orderId, amountMinor: cmd.amountMinor, currency: cmd.currency, providerRef }],
      result: { orderId: cmd.orderId, status: 'captured' as const, providerRef },
      announce: (uow) => uow.publish(PaymentCaptured, { orderId: cmd.orderId, customerId: cmd.customerId, amountMinor: cmd.amountMinor, currency: cmd.currency }),
    };
  }, loaded);
}
