// Payments, declared: event store, the resilient sandbox provider, contract handlers, routes.
import { z } from 'zod';
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

const positive = z.coerce.number().int().positive();

export default defineModule({
  manifest: paymentsManifest,
  settings: {
    /** Each attempt at the provider gives up after this long. */
    PAYMENT_TIMEOUT_MS: positive.default(1000),
    /** How long the sandbox's `tok_slow` takes to answer (default: three timeouts). */
    PAYMENT_SLOW_MS: positive.optional(),
    PAYMENT_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
    /** Consecutive failures that open the provider's circuit breaker. */
    PAYMENT_BREAKER_THRESHOLD: z.coerce.number().int().min(1).default(5),
    PAYMENT_BREAKER_HALF_OPEN_MS: positive.default(5000),
    /** Charges in flight at the provider at once. */
    PAYMENT_BULKHEAD: positive.default(16),
    /** An account is snapshotted every this many events, so a replay stays short. */
    SNAPSHOT_EVERY: z.coerce.number().int().min(2).default(20),
  },
  schema: paymentsSchema,
  setup(ctx) {
    const s = ctx.settings;
    const provider = resilientProvider(
      sandboxProvider(s.PAYMENT_SLOW_MS ?? s.PAYMENT_TIMEOUT_MS * 3),
      { timeoutMs: s.PAYMENT_TIMEOUT_MS, maxAttempts: s.PAYMENT_MAX_ATTEMPTS, breakerThreshold: s.PAYMENT_BREAKER_THRESHOLD, halfOpenAfterMs: s.PAYMENT_BREAKER_HALF_OPEN_MS, concurrency: s.PAYMENT_BULKHEAD },
      ctx.metrics,
    );
    const deps: PaymentsDeps = {
      store: ctx.store,
      unitOfWork: ctx.unitOfWork,
      events: eventStore(ctx.store, s.SNAPSHOT_EVERY),
      provider,
      clock: ctx.clock,
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
