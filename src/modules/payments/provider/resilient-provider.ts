// Around the provider: per-attempt timeout, retries with backoff and jitter for
// transient errors only (never for a decline), a circuit breaker and a bulkhead.
import { BrokenCircuitError, BulkheadRejectedError, TaskCancelledError } from 'cockatiel';
import type { Metrics } from '../../../platform/metrics/registry.ts';
import { resilience } from '../../../platform/resilience/policy.ts';
import { ProviderDeclined, ProviderUnavailable, type ChargeRequest, type PaymentProvider } from './payment-provider.ts';

export interface ProviderPolicy {
  timeoutMs: number;
  maxAttempts: number;
  breakerThreshold: number;
  halfOpenAfterMs: number;
  concurrency: number;
}

export function resilientProvider(inner: PaymentProvider, p: ProviderPolicy, metrics: Metrics): PaymentProvider & { circuit: () => string } {
  const policy = resilience(
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
  return {
    circuit: () => policy.circuit,
    // Refunds are idempotent at the provider (keyed by reference), so the same policy may retry them.
    refund: (providerRef: string) => policy.execute((signal) => inner.refund(providerRef, signal)),
    async charge(req: ChargeRequest) {
      try {
        return await policy.execute((signal) => inner.charge(req, signal));
      } catch (err) {
        if (err instanceof ProviderDeclined) throw err;
        if (err instanceof BrokenCircuitError) throw new ProviderUnavailable('circuit open: the provider has been failing', true);
        if (err instanceof BulkheadRejectedError) throw new ProviderUnavailable('too many payments in flight', true);
        if (err instanceof TaskCancelledError) throw new ProviderUnavailable(`no answer within ${p.timeoutMs} ms`);
        throw err;
      }
    },
  };
}
