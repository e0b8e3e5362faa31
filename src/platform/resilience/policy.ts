// Timeout, retry, circuit breaker and bulkhead in one place: a bulkhead (concurrency limit with a short queue), retries with
// exponential backoff and jitter for transient failures only, a circuit breaker that opens after
// consecutive failures and probes again through half-open, and a timeout on every attempt.
// Built on cockatiel; breaker state is exported as a gauge so it shows in /metrics.
import {
  bulkhead,
  circuitBreaker,
  ConsecutiveBreaker,
  CircuitState,
  ExponentialBackoff,
  handleWhen,
  retry,
  timeout,
  TimeoutStrategy,
  wrap,
  type CircuitBreakerPolicy,
  type IPolicy,
} from 'cockatiel';
import type { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../metrics/registry.ts';

export interface ResilienceOptions {
  /** Labels the metrics: the dependency this policy protects. */
  name: string;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs?: number;
  /** Which errors are transient (worth a retry, counted by the breaker). */
  isTransient: (err: unknown) => boolean;
  breakerThreshold: number;
  halfOpenAfterMs: number;
  concurrency: number;
  queue?: number;
}

const stateValue: Record<CircuitState, number> = {
  [CircuitState.Closed]: 0,
  [CircuitState.Open]: 1,
  [CircuitState.HalfOpen]: 2,
  [CircuitState.Isolated]: 3,
};

export interface Resilience {
  execute<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
  readonly circuit: 'closed' | 'open' | 'half-open' | 'isolated';
}

/** The four policies for one dependency: one breaker and one bulkhead, shared by every call. */
export interface PolicySet {
  breaker: CircuitBreakerPolicy;
  /** bulkhead → retries with backoff and jitter → breaker → timeout: for calls safe to repeat. */
  retrying: IPolicy;
  /** bulkhead → breaker → timeout: for calls that must not run twice. */
  once: IPolicy;
}

export interface PolicySetOptions {
  isTransient: (err: unknown) => boolean;
  timeoutMs: number;
  /** Extra attempts after the first, for `retrying`. */
  retries: number;
  backoffMs: number;
  maxBackoffMs: number;
  breakerFailures: number;
  halfOpenAfterMs: number;
  concurrency: number;
  queue: number;
}

export function policySet(o: PolicySetOptions): PolicySet {
  const transient = handleWhen(o.isTransient);
  const breaker = circuitBreaker(transient, { halfOpenAfter: o.halfOpenAfterMs, breaker: new ConsecutiveBreaker(o.breakerFailures) });
  // cockatiel's default generator is exponential with decorrelated jitter: callers that failed
  // together do not come back together. An open breaker is not retried: failing fast is the point.
  const retries = retry(transient, { maxAttempts: o.retries, backoff: new ExponentialBackoff({ initialDelay: o.backoffMs, maxDelay: o.maxBackoffMs }) });
  const perAttempt = timeout(o.timeoutMs, TimeoutStrategy.Aggressive);
  const limit = bulkhead(o.concurrency, o.queue);
  // Outermost first: the bulkhead bounds concurrent callers, each retry passes the breaker, and
  // every single attempt has its own timeout.
  return { breaker, retrying: wrap(limit, retries, breaker, perAttempt), once: wrap(limit, breaker, perAttempt) };
}

export function resilience(o: ResilienceOptions, metrics?: Metrics): Resilience {
  const { breaker, retrying: policy } = policySet({
    isTransient: o.isTransient,
    timeoutMs: o.timeoutMs,
    retries: Math.max(0, o.maxAttempts - 1),
    backoffMs: o.retryBaseMs ?? 50,
    maxBackoffMs: 2000,
    breakerFailures: o.breakerThreshold,
    halfOpenAfterMs: o.halfOpenAfterMs,
    concurrency: o.concurrency,
    queue: o.queue ?? o.concurrency * 4,
  });
  if (metrics) {
    // Shared by every policy of this registry: one metric, one label value per dependency.
    const gauge =
      (metrics.registry.getSingleMetric('circuit_breaker_state') as Gauge<'dependency'> | undefined) ??
      metrics.gauge('circuit_breaker_state', 'Circuit state per dependency: 0 closed, 1 open, 2 half-open, 3 isolated', ['dependency']);
    const transitions =
      (metrics.registry.getSingleMetric('circuit_breaker_transitions_total') as Counter<'dependency' | 'to'> | undefined) ??
      metrics.counter('circuit_breaker_transitions_total', 'Circuit state changes per dependency', ['dependency', 'to']);
    gauge.set({ dependency: o.name }, 0);
    breaker.onStateChange((state) => {
      gauge.set({ dependency: o.name }, stateValue[state]);
      transitions.inc({ dependency: o.name, to: CircuitState[state].toLowerCase() });
    });
  }

  return {
    execute: (fn) => policy.execute(({ signal }) => fn(signal)),
    get circuit() {
      return ({ 0: 'closed', 1: 'open', 2: 'half-open', 3: 'isolated' } as const)[stateValue[breaker.state] as 0 | 1 | 2 | 3];
    },
  };
}
