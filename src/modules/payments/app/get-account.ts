import { netMinor } from '../domain/account.ts';
import type { PaymentsDeps } from './payments-deps.ts';

/**
 * The account now (its latest summary and the events after it, by version), or as of a past
 * moment: the fold of the events recorded up to then.
 */
export async function getAccount(deps: PaymentsDeps, customerId: string, at?: Date) {
  const asOf = at ?? deps.clock.now();
  const { state, version } = await deps.events.load(deps.store.db, customerId, at ? { at } : {});
  return {
    customerId,
    capturedMinor: state.capturedMinor,
    refundedMinor: state.refundedMinor,
    netMinor: netMinor(state),
    payments: state.payments,
    version,
    asOf: asOf.toISOString(),
  };
}
