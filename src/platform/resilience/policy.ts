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

/**
 * The timeout on each attempt. An attempt that returned has finished its work (the whole reply is
 * read), so there is nothing left to cancel: aborting its signal anyway built a DOMException with
 * a stack on every call. A timed-out attempt is still aborted.
 */
function attemptTimeout(ms: number) {
  return timeout(ms, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
}

export function policySet(o: PolicySetOptions): PolicySet {
  const transient = handleWhen(o.isTransient);
  const breaker = circuitBreaker(transient, { halfOpenAfter: o.halfOpenAfterMs, breaker: new ConsecutiveBreaker(o.breakerFailures) });
  // cockatiel's default generator is exponential with decorrelated jitter: callers that failed
  // together do not come back together. An open breaker is not retried: failing fast is the point.
  const retries = retry(transient, { maxAttempts: o.retries, backoff: new ExponentialBackoff({ initialDelay: o.backoffMs, maxDelay: o.maxBackoffMs }) });
  const perAttempt = attemptTimeout(o.timeoutMs);
  const limit = bulkhead(o.concurrency, o.queue);
  // Outermost first: the bulkhead bounds concurrent callers, each retry passes the breaker, and
  // every single attempt has its own timeout.
  return { breaker, retrying: wrap(limit, retries, breaker, perAttempt), once: wrap(limit, breaker, perAttempt) };
}

export function resilience(o: ResilienceOptions, metrics?: Metrics): Resilience {
  return partitionedResilience(o, metrics).partition('all');
}

/**
 * One dependency reached through several independent routes (a payment provider's card networks,
 * say): each route has its own breaker and retries, so a route that keeps failing opens its own
 * circuit and leaves the others running, while one bulkhead bounds the calls in flight to the
 * dependency as a whole.
 */
export interface PartitionedResilience {
  partition(key: string): Resilience;
}

export function partitionedResilience(o: ResilienceOptions, metrics?: Metrics): PartitionedResilience {
  const limit = bulkhead(o.concurrency, o.queue ?? o.concurrency * 4);
  const transient = handleWhen(o.isTransient);
  const gauge = metrics
    ? ((metrics.registry.getSingleMetric('circuit_breaker_state') as Gauge<'dependency' | 'partition'> | undefined) ??
      metrics.gauge('circuit_breaker_state', 'Circuit state per dependency and route: 0 closed, 1 open, 2 half-open, 3 isolated', ['dependency', 'partition']))
    : undefined;
  const transitions = metrics
    ? ((metrics.registry.getSingleMetric('circuit_breaker_transitions_total') as Counter<'dependency' | 'partition' | 'to'> | undefined) ??
      metrics.counter('circuit_breaker_transitions_total', 'Circuit state changes per dependency and route', ['dependency', 'partition', 'to']))
    : undefined;
  const partitions = new Map<string, Resilience>();

  function build(key: string): Resilience {
    const breaker = circuitBreaker(transient, { halfOpenAfter: o.halfOpenAfterMs, breaker: new ConsecutiveBreaker(o.breakerThreshold) });
    // cockatiel's default generator is exponential with decorrelated jitter: callers that failed
    // together do not come back together. An open breaker is not retried: failing fast is the point.
    const retries = retry(transient, {
      maxAttempts: Math.max(0, o.maxAttempts - 1),
      backoff: new ExponentialBackoff({ initialDelay: o.retryBaseMs ?? 50, maxDelay: 2000 }),
    });
    const policy = wrap(limit, retries, breaker, attemptTimeout(o.timeoutMs));
    gauge?.set({ dependency: o.name, partition: key }, 0);
    breaker.onStateChange((state) => {
      gauge?.set({ dependency: o.name, partition: key }, stateValue[state]);
      transitions?.inc({ dependency: o.name, partition: key, to: CircuitState[state].toLowerCase() });
    });
    return {
      execute: (fn) => policy.execute(({ signal }) => fn(signal)),
      get circuit() {
        return ({ 0: 'closed', 1: 'open', 2: 'half-open', 3: 'isolated' } as const)[stateValue[breaker.state] as 0 | 1 | 2 | 3];
      },
    };
  }

  return {
    partition(key) {
      let r = partitions.get(key);
      if (!r) partitions.set(key, (r = build(key)));
      return r;
    },
  };
}
