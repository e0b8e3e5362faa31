// A customer's payment account, event-sourced: its state is the fold of its events.
// Pure functions only; persistence lives in db/event-store.ts.
//
// The fold is kept small on purpose. The account's summary (totals and a count) is what every
// charge and refund needs from the whole stream; what happened to one order's payment is the fold
// of that order's own events, read by order (the events carry the order id). An account state
// holding every payment it ever took grew with each order: every charge parsed, copied and
// snapshotted the customer's whole history (decision 20).

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
  /** Payments taken (captured, refunded since or not). */
  payments: number;
}

/** One order's payment on the account: the fold of the events that name the order. */
export interface OrderPayment {
  status: PaymentStatus;
  amountMinor: number;
  currency: string;
  providerRef?: string;
}

export function emptyAccount(customerId: string): AccountState {
  return { customerId, opened: false, capturedMinor: 0, refundedMinor: 0, payments: 0 };
}

export function apply(state: AccountState, e: AccountEvent): AccountState {
  switch (e.type) {
    case 'AccountOpened':
      return { ...state, opened: true };
    case 'PaymentCaptured':
      return { ...state, capturedMinor: state.capturedMinor + e.amountMinor, payments: state.payments + 1 };
    case 'PaymentRefunded':
      return { ...state, refundedMinor: state.refundedMinor + e.amountMinor };
    case 'PaymentDeclined':
    case 'OrderVoided':
      return state;
  }
}

export function applyToPayment(payment: OrderPayment | undefined, e: AccountEvent): OrderPayment | undefined {
  switch (e.type) {
    case 'AccountOpened':
      return payment;
    case 'PaymentCaptured':
      return { status: 'captured', amountMinor: e.amountMinor, currency: e.currency, providerRef: e.providerRef };
    case 'PaymentRefunded':
      return { ...payment!, status: 'refunded' };
    case 'PaymentDeclined':
      return { status: 'declined', amountMinor: 0, currency: '' };
    case 'OrderVoided':
      return { status: 'voided', amountMinor: 0, currency: '' };
  }
}

export const netMinor = (s: AccountState) => s.capturedMinor - s.refundedMinor;

/** What a refund for the order should record, given its payment so far, if anything. */
export function decideRefund(payment: OrderPayment | undefined, orderId: string): AccountEvent | undefined {
  if (!payment) return { type: 'OrderVoided', orderId };
  if (payment.status === 'captured') return { type: 'PaymentRefunded', orderId, amountMinor: payment.amountMinor, currency: payment.currency };
  return undefined;
}
