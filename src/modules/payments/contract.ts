import { z } from 'zod';
import { defineContract, operation } from '../../platform/contracts/define-contract.ts';
import { defineError } from '../../platform/errors/domain-error.ts';

export const PaymentMethod = z.enum(['tok_ok', 'tok_decline', 'tok_fail', 'tok_slow']);
const OrderId = z.string().min(1).max(100);
const CustomerId = z.string().min(1).max(200);
const Currency = z.string().regex(/^[A-Z]{3}$/);

export const AccountView = z.object({
  customerId: CustomerId,
  capturedMinor: z.number().int().nonnegative(),
  refundedMinor: z.number().int().nonnegative(),
  netMinor: z.number().int(),
  payments: z.number().int().nonnegative(),
  version: z.number().int().nonnegative(),
  asOf: z.string(),
});

export const PaymentDeclined = defineError<{ reason: string }>('PaymentDeclined', 422, 'The payment was declined');
/** `retryLater`: the charge was not even attempted (circuit open, bulkhead full), so waiting is safe. */
export const PaymentUnavailable = defineError<{ retryLater: boolean }>('PaymentUnavailable', 503, 'The payment provider is unavailable; try again later');
export const PaymentClosed = defineError<{ status: string }>('PaymentClosed', 409, 'This order can no longer be charged');

/** Every operation is keyed by order id: a saga may repeat it and money moves once. */
export const paymentsContract = defineContract({
  name: 'payments',
  errors: [PaymentDeclined, PaymentUnavailable, PaymentClosed],
  operations: {
    charge: operation({
      input: z.object({ orderId: OrderId, customerId: CustomerId, amountMinor: z.number().int().positive(), currency: Currency, paymentMethod: PaymentMethod }),
      output: z.object({ orderId: OrderId, status: z.literal('captured'), providerRef: z.string() }),
      idempotent: true,
      description: 'Captures the amount through the payment provider, once per order',
    }),
    refund: operation({
      input: z.object({ orderId: OrderId, customerId: CustomerId }),
      output: z.object({ orderId: OrderId, status: z.enum(['refunded', 'voided']) }),
      idempotent: true,
      description: 'Compensation: gives a capture back, or voids the order so a late charge is refused',
    }),
    getAccount: operation({
      input: z.object({ customerId: CustomerId, at: z.string().datetime({ offset: true }).refine((v) => Date.parse(v) >= 0 && Date.parse(v) < Date.UTC(10000, 0, 1), 'must lie between 1970 and 9999').optional() }),
      output: AccountView,
      idempotent: true,
    }),
  },
});
