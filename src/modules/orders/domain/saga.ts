// The place-order saga (orchestration), as data. Pricing happens while the request is
// answered, so unknown skus are refused with a 4xx; the persisted plan then runs
// reserve → charge → commit → confirm. A failure replaces the rest of the plan with the
// compensations already due, ending in cancel. Every step is idempotent, keyed by order id.
import type { CancelReason } from './order.ts';

export type SagaStep = 'reserve' | 'charge' | 'commit' | 'confirm' | 'refund' | 'release' | 'cancel';

export const happyPath: SagaStep[] = ['reserve', 'charge', 'commit', 'confirm'];

/** What to do when `step` fails for good with `reason`. */
export function compensationsFor(step: SagaStep, reason: CancelReason): SagaStep[] {
  switch (step) {
    case 'reserve':
      // Nothing was held when stock was short; after a give-up the reserve may have landed late.
      return reason === 'out_of_stock' || reason === 'reservation_expired' ? ['cancel'] : ['release', 'cancel'];
    case 'charge':
      // An unavailable provider leaves the charge's fate unknown: refund (or void) it too.
      return reason === 'payment_declined' || reason === 'payment_voided' || reason === 'rejected' ? ['release', 'cancel'] : ['refund', 'release', 'cancel'];
    case 'commit':
      // An expired reservation already went back on the shelf.
      return reason === 'reservation_expired' ? ['refund', 'cancel'] : ['refund', 'release', 'cancel'];
    default:
      // Compensations and the final steps do not fail for business reasons; they are retried.
      return [];
  }
}

export const isCompensation = (s: SagaStep) => s === 'refund' || s === 'release' || s === 'cancel';
