// Payments' wiring: event store, the resilient sandbox provider, contract handlers, routes.
import { defineModule } from '../../platform/modules/define-module.ts';
import { paymentsManifest } from './index.ts';
import { paymentsSchema } from './db/schema.ts';
import { eventStore } from './db/event-store.ts';
import { sandboxProvider } from './provider/sandbox-provider.ts';
import { resilientProvider } from './provider/resilient-provider.ts';
import type { PaymentsDeps } from './app/payments-deps.ts';
import { charge } from './app/charge.ts';
import { refund } from './app/refund.ts';
import { getAccount } from './app/get-account.ts';
import { paymentsRoutes } from './http/routes.ts';

export const paymentsModule = defineModule({
  manifest: paymentsManifest,
  schema: paymentsSchema,
  setup(ctx) {
    const c = ctx.config;
    const provider = resilientProvider(
      sandboxProvider(c.PAYMENT_SLOW_MS ?? c.PAYMENT_TIMEOUT_MS * 3),
      { timeoutMs: c.PAYMENT_TIMEOUT_MS, maxAttempts: c.PAYMENT_MAX_ATTEMPTS, breakerThreshold: c.PAYMENT_BREAKER_THRESHOLD, halfOpenAfterMs: c.PAYMENT_BREAKER_HALF_OPEN_MS, concurrency: c.PAYMENT_BULKHEAD },
      ctx.metrics,
    );
    const deps: PaymentsDeps = {
      store: ctx.store,
      unitOfWork: ctx.unitOfWork,
      events: eventStore(ctx.store.tables, c.SNAPSHOT_EVERY),
      provider,
      clock: () => new Date(),
    };
    return {
      handlers: {
        charge: (input) => charge(deps, input),
        refund: ({ orderId, customerId }) => refund(deps, orderId, customerId),
        getAccount: ({ customerId, at }) => getAccount(deps, customerId, at ? new Date(at) : undefined),
      },
      routes: paymentsRoutes(deps),
    };
  },
});
