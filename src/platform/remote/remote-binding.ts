// The calling side of a remote contract, generated from the contract itself: the same input and
// output schemas as in-process, the same error classes rebuilt by code, and the resilience the
// network needs: a timeout on every attempt, retries with exponential backoff and
// jitter for idempotent operations only, one circuit breaker and one bulkhead per remote module.
// What cannot be reached surfaces as ServiceUnavailable, a 503 problem+json at the edge.
import {
  BulkheadRejectedError,
  CircuitState,
  isBrokenCircuitError,
  isBulkheadRejectedError,
  isTaskCancelledError,
  type CircuitBreakerPolicy,
  type IPolicy,
} from 'cockatiel';
import { policySet } from '../resilience/policy.ts';
import type { Histogram } from 'prom-client';
import type { Contract, ContractApi } from '../contracts/define-contract.ts';
import { wireText } from '../contracts/wire.ts';
import { context, type Span } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { currentContext } from '../context/request-context.ts';
import { currentTraceparent } from '../observability/trace-context.ts';
import { inContractSpan, startContractSpan } from '../observability/contract-span.ts';
import { DomainError, ContractViolation, ServiceUnavailable, type AnyErrorClass } from '../errors/domain-error.ts';
import { fieldIssues, parseOrThrow } from '../errors/validation.ts';
import { INTERNAL_PREFIX } from './contract-endpoint.ts';
import { TransportFailure, type InstancePool, type RawReply } from './instance-pool.ts';
import { callCoalescer } from './call-coalescer.ts';
import { BATCH_LIMIT } from './contract-batch.ts';
import { END_USER_HEADER, type ServiceCredentials } from './service-credentials.ts';

export interface ResilienceOptions {
  timeoutMs: number;
  /** Extra attempts for idempotent operations. */
  retries: number;
  backoffMs: number;
  breakerFailures: number;
  halfOpenAfterMs: number;
  bulkhead: number;
  bulkheadQueue: number;
}

/** A 5xx the callee itself answered: it is up but failing, which the breaker counts like a dead one. */
class RemoteServerError extends Error {
  override name = 'RemoteServerError';
  readonly problem: ProblemBody;
  constructor(problem: ProblemBody, status: number) {
    super(`${problem.code ?? 'InternalError'} (${status}): ${problem.detail ?? ''}`);
    this.problem = problem;
  }
}

interface ProblemBody {
  code?: string;
  detail?: string;
  status?: number;
  details?: unknown;
  errors?: unknown;
}

const isUnavailability = (err: unknown) => err instanceof TransportFailure || err instanceof RemoteServerError || isTaskCancelledError(err);

/** One breaker and one bulkhead per remote module, shared by all its operations. */
export interface ModulePolicies {
  readonly module: string;
  readonly breaker: CircuitBreakerPolicy;
  readonly idempotent: IPolicy;
  readonly once: IPolicy;
}

export function modulePolicies(module: string, o: ResilienceOptions): ModulePolicies {
  const set = policySet({
    isTransient: isUnavailability,
    timeoutMs: o.timeoutMs,
    retries: o.retries,
    backoffMs: o.backoffMs,
    maxBackoffMs: Math.max(o.backoffMs * 20, o.backoffMs),
    breakerFailures: o.breakerFailures,
    halfOpenAfterMs: o.halfOpenAfterMs,
    concurrency: o.bulkhead,
    queue: o.bulkheadQueue,
  });
  return { module, breaker: set.breaker, idempotent: set.retrying, once: set.once };
}

export function breakerStateName(state: CircuitState): string {
  return ({ [CircuitState.Closed]: 'closed', [CircuitState.Open]: 'open', [CircuitState.HalfOpen]: 'half-open', [CircuitState.Isolated]: 'isolated' } as Record<number, string>)[state] ?? 'unknown';
}

/** How long a callee that answered 404 to a batch (a version before batching) gets single calls only. */
const BATCH_OFF_MS = 60_000;

interface OutgoingCall {
  /** The input's JSON text (undefined: no input). */
  text: string | undefined;
  headers: Record<string, string>;
  span: Span;
}

export function bindRemote<C extends Contract>(
  contract: C,
  o: {
    pool: InstancePool;
    policies: ModulePolicies;
    credentials: ServiceCredentials;
    latency?: Histogram<'contract' | 'operation' | 'binding' | 'outcome'>;
    onRejected?: (reason: 'open' | 'bulkhead') => void;
    /** Calls of an idempotent operation made in the same turn go out as one batch of up to this many; 1 sends each alone. */
    batchMax?: number;
    now?: () => number;
  },
): ContractApi<C> {
  const errorsByCode = new Map<string, AnyErrorClass>(contract.errors.map((e) => [e.code, e]));
  const batchMax = Math.min(Math.max(1, o.batchMax ?? 1), BATCH_LIMIT);
  const now = o.now ?? Date.now;
  // Per callee module, not per operation: an older deployable lacks the batch form of all of them.
  let batchOffUntil = 0;
  const api: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [name, spec] of Object.entries(contract.operations)) {
    const where = `${contract.name}.${name}`;
    const path = `${INTERNAL_PREFIX}/${encodeURIComponent(contract.name)}/${encodeURIComponent(name)}`;
    const policy = spec.idempotent ? o.policies.idempotent : o.policies.once;

    /** The output of a call the callee answered, or its error rebuilt as the contract's class. */
    const outputOf = (output: unknown) => {
      const out = spec.output.safeParse(output);
      if (!out.success) throw new ContractViolation(`${where} answered outside its output schema`, { issues: fieldIssues(out.error) });
      return out.data;
    };

    const sendOne = async ({ text, headers, span }: OutgoingCall): Promise<unknown> => {
      const body = text === undefined ? '{}' : `{"input":${text}}`;
      let attempts = 0;
      const reply = await policy.execute(async ({ signal }) => {
        span.setAttribute('contract.attempts', ++attempts);
        // This span is the call's client span: the http instrumentation adds none below it, so the
        // callee's server span is the direct child of the contract call.
        const r = await context.with(suppressTracing(context.active()), () => o.pool.post(path, body, headers, signal, spec.idempotent));
        span.setAttribute('http.response.status_code', r.status);
        if (r.status >= 500) {
          const problem = parseProblem(r.body);
          // Up but failing (or itself cut off from a dependency): the breaker counts it. A declared
          // error of the contract with a 5xx status (PaymentUnavailable, a ContractViolation) is
          // an answer, not an outage: it travels back as its own class, as it would in-process.
          if (!isDeclared(problem)) throw new RemoteServerError(problem, r.status);
        }
        return r;
      });
      if (reply.status >= 400) throw rebuildError(parseProblem(reply.body), reply.status, errorsByCode, where);
      let parsedBody: { output?: unknown };
      try {
        parsedBody = JSON.parse(reply.body) as { output?: unknown };
      } catch {
        throw new ContractViolation(`${where} answered with something that is not JSON`);
      }
      return outputOf(parsedBody.output);
    };

    const isDeclared = (problem: ProblemBody) => problem.code !== undefined && errorsByCode.has(problem.code) && problem.code !== ServiceUnavailable.code;

    /**
     * Several calls in one request, retried as a whole (only idempotent operations are batched).
     * Each call gets its own answer; one the callee failed on with an undeclared 5xx goes again on
     * its own, through the single call's retries and breaker. A callee that has no batch form
     * (404: an older version) gets single calls, and only those for a while.
     */
    const sendMany = async (calls: OutgoingCall[]): Promise<PromiseSettledResult<unknown>[]> => {
      const alone = () => Promise.allSettled(calls.map(sendOne));
      const body = `{"calls":[${calls.map(callText).join(',')}]}`;
      // The batch's own request id is the callee's to make; each call's travels in the body.
      const { ['x-request-id']: _ownId, ...headers } = calls[0]!.headers;
      let attempts = 0;
      let reply: RawReply;
      try {
        reply = await policy.execute(async ({ signal }) => {
          attempts++;
          const r = await context.with(suppressTracing(context.active()), () => o.pool.post(`${path}/batch`, body, headers, signal, true));
          // No declared error answers a whole batch (they are per call): a 5xx is the callee failing.
          if (r.status >= 500) throw new RemoteServerError(parseProblem(r.body), r.status);
          return r;
        });
      } catch (err) {
        return calls.map(() => ({ status: 'rejected', reason: err }));
      } finally {
        for (const c of calls) {
          c.span.setAttribute('contract.attempts', attempts);
          c.span.setAttribute('contract.batch.size', calls.length);
        }
      }
      for (const c of calls) c.span.setAttribute('http.response.status_code', reply.status);
      if (reply.status === 404) {
        batchOffUntil = now() + BATCH_OFF_MS;
        return alone();
      }
      if (reply.status >= 400) {
        const problem = parseProblem(reply.body);
        // The credential refused is every call's answer; anything else about the batch's shape or
        // size (a callee with a lower limit) is not the calls' fault: they go one by one.
        if (reply.status === 401 || reply.status === 403) return calls.map(() => ({ status: 'rejected', reason: rebuildError(problem, reply.status, errorsByCode, where) }));
        return alone();
      }
      let results: unknown;
      try {
        results = (JSON.parse(reply.body) as { results?: unknown }).results;
      } catch {
        results = undefined;
      }
      if (!Array.isArray(results) || results.length !== calls.length) {
        const err = new ContractViolation(`${where} answered a batch of ${calls.length} calls with something else than ${calls.length} results`);
        return calls.map(() => ({ status: 'rejected', reason: err }));
      }
      return Promise.allSettled(
        calls.map(async (c, i) => {
          const r = results[i] as { output?: unknown; problem?: ProblemBody } | null;
          const problem = r?.problem;
          if (problem && typeof problem === 'object') {
            const status = typeof problem.status === 'number' ? problem.status : 500;
            if (status >= 500 && !isDeclared(problem)) return sendOne(c);
            throw rebuildError(problem, status, errorsByCode, where);
          }
          return outputOf(r?.output);
        }),
      );
    };

    const coalescer = spec.idempotent && batchMax > 1 ? callCoalescer<OutgoingCall, unknown>({ max: batchMax, sendOne, sendMany }) : undefined;

    api[name] = (input) => {
      const span = startContractSpan(contract.name, name, 'remote');
      return inContractSpan(span, () => call(input, span));
    };
    const call = async (input: unknown, span: Span) => {
      const end = o.latency?.startTimer({ contract: contract.name, operation: name, binding: 'remote' });
      let outcome = 'error';
      try {
        // The caller's mistakes stay the caller's: validated here, before any network.
        // Serialised once: the text validated (what survives JSON) is the text sent.
        const text = wireText(input, `${where} input`);
        parseOrThrow(spec.input, text === undefined ? undefined : JSON.parse(text), `${where} input`);
        const headers = await headersFor(contract.name, o.credentials);
        const outgoing = { text, headers, span };
        // Calls batch only with calls for the same end user: a batch carries one end-user token.
        const out = coalescer && now() >= batchOffUntil ? await coalescer.submit(headers[END_USER_HEADER] ?? '', outgoing) : await sendOne(outgoing);
        outcome = 'ok';
        return out;
      } catch (err) {
        if (err instanceof DomainError) throw err;
        outcome = 'unavailable';
        if (isBrokenCircuitError(err)) {
          o.onRejected?.('open');
          throw new ServiceUnavailable(`${contract.name} is unavailable (circuit open); try again later`);
        }
        if (isBulkheadRejectedError(err) || err instanceof BulkheadRejectedError) {
          o.onRejected?.('bulkhead');
          throw new ServiceUnavailable(`${contract.name} is overloaded (too many calls in flight); try again later`);
        }
        if (err instanceof RemoteServerError) throw rebuildServerError(err, errorsByCode, contract.name);
        if (isTaskCancelledError(err)) throw new ServiceUnavailable(`${contract.name} did not answer within the timeout`);
        if (err instanceof TransportFailure) throw new ServiceUnavailable(`${contract.name} is unavailable: ${err.message}`);
        throw err;
      } finally {
        end?.({ outcome });
      }
    };
  }
  return api as ContractApi<C>;
}

/** One call of a batch body: its input's text as validated, and the ids its own request would carry. */
function callText({ text, headers }: OutgoingCall): string {
  const ids = [
    headers['x-request-id'] !== undefined ? `"requestId":${JSON.stringify(headers['x-request-id'])}` : '',
    headers['x-correlation-id'] !== undefined ? `"correlationId":${JSON.stringify(headers['x-correlation-id'])}` : '',
    headers.traceparent !== undefined ? `"traceparent":${JSON.stringify(headers.traceparent)}` : '',
    text !== undefined ? `"input":${text}` : '',
  ].filter(Boolean);
  return `{${ids.join(',')}}`;
}

async function headersFor(module: string, credentials: ServiceCredentials): Promise<Record<string, string>> {
  const ctx = currentContext();
  const headers: Record<string, string> = { authorization: `Bearer ${await credentials.serviceToken(module)}`, accept: 'application/json' };
  if (ctx?.caller) headers[END_USER_HEADER] = await credentials.endUserToken(ctx.caller, module);
  if (ctx?.requestId) headers['x-request-id'] = ctx.requestId;
  if (ctx?.correlationId) headers['x-correlation-id'] = ctx.correlationId;
  // The active span is the contract call's client span (see bindRemote).
  const traceparent = currentTraceparent();
  if (traceparent) headers.traceparent = traceparent;
  return headers;
}

function parseProblem(text: string): ProblemBody {
  try {
    const p = JSON.parse(text) as ProblemBody;
    return p && typeof p === 'object' ? p : {};
  } catch {
    return { detail: text.slice(0, 200) };
  }
}

/** The callee's domain error, as the same class on this side (the same errors in-process and remote). */
function rebuildError(p: ProblemBody, status: number, byCode: Map<string, AnyErrorClass>, where: string): Error {
  // The callee refused our service credential: a deployment fault, not the end user's.
  if (p.code === 'ServiceUnauthenticated' || p.code === 'ServiceForbidden') return new ContractViolation(`${where}: the callee refused this deployable's service credential: ${p.detail ?? p.code}`);
  const cls = p.code ? byCode.get(p.code) : undefined;
  const details = p.details !== undefined ? p.details : p.errors !== undefined ? { issues: p.errors } : undefined;
  if (cls) return new cls(p.detail, details);
  if (p.code) return new DomainError(p.code, p.detail ?? `${where} failed`, status, details);
  return new ContractViolation(`${where} answered ${status} without a problem body`);
}

function rebuildServerError(err: RemoteServerError, byCode: Map<string, AnyErrorClass>, module: string): Error {
  const p = err.problem;
  const cls = p.code ? byCode.get(p.code) : undefined;
  if (cls === ServiceUnavailable) return new ServiceUnavailable(`${module} is unavailable: ${p.detail ?? ''}`);
  return new ServiceUnavailable(`${module} failed: ${p.code ?? 'InternalError'}${p.detail ? `: ${p.detail}` : ''}`);
}
