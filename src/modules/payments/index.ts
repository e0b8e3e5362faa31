// Payments: the bounded context of money — each customer's payment account, kept as an
// append-only stream of events, and the charges and refunds made through the provider.
import { defineManifest } from '../../platform/modules/manifest.ts';
import { paymentsContract } from './contract.ts';
import { PaymentCaptured, PaymentDeclinedEvent, PaymentRefunded } from './events.ts';

export { paymentsContract, PaymentDeclined, PaymentUnavailable, PaymentClosed, PaymentMethod, AccountView } from './contract.ts';
export { PaymentCaptured, PaymentDeclinedEvent, PaymentRefunded } from './events.ts';

export const paymentsManifest = defineManifest({
  name: 'payments',
  purpose: "Money: each customer's payment account as an event stream, charges and refunds",
  contract: paymentsContract,
  publishes: [PaymentCaptured, PaymentRefunded, PaymentDeclinedEvent],
  subscribes: [],
  dependsOn: [],
  publicPaths: ['/api/v1/accounts'],
});
