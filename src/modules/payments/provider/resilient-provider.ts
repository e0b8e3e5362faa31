// Around the provider: per-attempt timeout, retries with backoff and jitter for transient errors
// only (never for a decline), a circuit breaker per payment route, and one bulkhead for the
// provider as a whole. Per route, because failures at a provider are usually a route's (a card
// network down, an issuer timing out): one provider-wide breaker opened by them would refuse every
// other customer's good card too, and while it probes half-open, one call at a time, orders that
// would have gone through wait for minutes behind the ones that cannot.
import { BrokenCircuitError, BulkheadRejectedError, TaskCancelledError } from 'cockatiel';
import type { Metrics } from '../../../platform/metrics/registry.ts';
import { partitionedResilience } from '../../../platform/resilience/policy.ts';
import { ProviderDeclined, ProviderUnavailable, type ChargeRequest, type PaymentProvider } from './payment-provider.ts';

export interface ProviderPolicy {
  timeoutMs: number;
  maxAttempts: number;
  breakerThreshold: number;
  halfOpenAfterMs: number;
  concurrency: number;
}

export function resilientProvider(inner: PaymentProvider, p: ProviderPolicy, metrics: Metrics): PaymentProvider & { circuit: (token: string) => string } {
  const routes = partitionedResilience(
    {
      name: 'payment-provider',
      timeoutMs: p.timeoutMs,
      maxAttempts: p.maxAttempts,
      retryBaseMs: 50,
      isTransient: (err) => err instanceof ProviderUnavailable || err instanceof TaskCancelledError,
      breakerThreshold: p.breakerThreshold,
      halfOpenAfterMs: p.halfOpenAfterMs,
      concurrency: p.concurrency,
    },
    metrics,
  );
  // Refunds go back by reference, whatever route the charge took; they are idempotent at the
  // provider, so the same kind of policy may retry them.
  const refunds = routes.partition('refunds');
  return {
    routeOf: (token) => inner.routeOf(token),
    circuit: (token) => routes.partition(inner.routeOf(token)).circuit,
    refund: (providerRef: string) => refunds.execute((signal) => inner.refund(providerRef, signal)),
    async charge(req: ChargeRequest) {
      try {
        return await routes.partition(inner.routeOf(req.token)).execute((signal) => inner.charge(req, signal));
      } catch (err) {
        if (err instanceof ProviderDeclined) throw err;
        if (err instanceof BrokenCircuitError) throw new ProviderUnavailable('circuit open: this payment route has been failing', true);
        if (err instanceof BulkheadRejectedError) throw new ProviderUnavailable('too many payments in flight', true);
        if (err instanceof TaskCancelledError) throw new ProviderUnavailable(`no answer within ${p.timeoutMs} ms`);
        throw err;
      }
    },
  };
}
