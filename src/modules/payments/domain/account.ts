// A customer's payment account, event-sourced: its state is the fold of its events.
// Pure functions only; persistence lives in db/event-store.ts.

export type AccountEvent =
  | { type: 'AccountOpened'; customerId: string }
  | { type: 'PaymentCaptured'; orderId: string; amountMinor: number; currency: string; providerRef: string }
  | { type: 'PaymentRefunded'; orderId: string; amountMinor: number; currency: string }
  | { type: 'PaymentDeclined'; orderId: string; reason: string }
  | { type: 'OrderVoided'; orderId: string };

export type PaymentStatus = 'captured' | 'refunded' | 'declined' | 'voided';

export interface AccountState {
  customerId: string;
  opened: boolean;
  capturedMinor: number;
  refundedMinor: number;
  payments: Record<string, { status: PaymentStatus; amountMinor: number; currency: string; providerRef?: string }>;
}

export function emptyAccount(customerId: string): AccountState {
  return { customerId, opened: false, capturedMinor: 0, refundedMinor: 0, payments: {} };
}

export function apply(state: AccountState, e: AccountEvent): AccountState {
  switch (e.type) {
    case 'AccountOpened':
      return { ...state, opened: true };
    case 'PaymentCaptured':
      return {
        ...state,
        capturedMinor: state.capturedMinor + e.amountMinor,
        payments: { ...state.payments, [e.orderId]: { status: 'captured', amountMinor: e.amountMinor, currency: e.currency, providerRef: e.providerRef } },
      };
    case 'PaymentRefunded': {
      const p = state.payments[e.orderId]!;
      return { ...state, refundedMinor: state.refundedMinor + e.amountMinor, payments: { ...state.payments, [e.orderId]: { ...p, status: 'refunded' } } };
    }
    case 'PaymentDeclined':
      return { ...state, payments: { ...state.payments, [e.orderId]: { status: 'declined', amountMinor: 0, currency: '' } } };
    case 'OrderVoided':
      return { ...state, payments: { ...state.payments, [e.orderId]: { status: 'voided', amountMinor: 0, currency: '' } } };
  }
}

export const netMinor = (s: AccountState) => s.capturedMinor - s.refundedMinor;

/** What a refund for `orderId` should record, if anything. */
export function decideRefund(state: AccountState, orderId: string): AccountEvent | undefined {
  const p = state.payments[orderId];
  if (!p) return { type: 'OrderVoided', orderId };
  if (p.status === 'captured') return { type: 'PaymentRefunded', orderId, amountMinor: p.amountMinor, currency: p.currency };
  return undefined;
}
