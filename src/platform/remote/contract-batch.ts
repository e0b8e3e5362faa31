// Several calls of one operation in one request (`POST /internal/contracts/<module>/<operation>/batch`),
// the form a caller's coalescer sends when its module makes many calls at once. Each call goes
// through the same pipeline as a call of its own: its input through the operation's schema, the
// handler in a request context of its own (its request and correlation ids, the batch's verified
// end user), the output through its schema, and its own answer: an output, or the problem the
// single endpoint would have answered. One call's failure is that call's alone.
import type { Histogram } from 'prom-client';
import { callContextFromScope, invokeOperation } from '../contracts/in-process-binding.ts';
import type { Contract, ContractHandlers } from '../contracts/define-contract.ts';
import { currentContext, runWithContext, type Caller } from '../context/request-context.ts';
import { DomainError, ValidationFailed } from '../errors/domain-error.ts';
import { contextFromTraceparent } from '../observability/trace-context.ts';
import { context } from '@opentelemetry/api';
import type { Logger } from '../logging/logger.ts';

/** The most calls one batch may carry; a caller's REMOTE_BATCH_MAX stays at or below it. */
export const BATCH_LIMIT = 256;

/**
 * The most calls of one batch that run at once. A batch of 256 would otherwise start 256 handlers
 * together, each wanting a connection of a module's small Postgres pool (4 by default) and holding
 * its own memory meanwhile; the rest wait their turn, in order. A caller sends at most
 * REMOTE_BATCH_MAX (64) calls a batch, and 16 in flight travel as batches of 16.
 */
export const BATCH_CONCURRENCY = 16;

export interface BatchCall {
  input?: unknown;
  requestId?: string;
  correlationId?: string;
  traceparent?: string;
}

/** What one call of a batch answered: its output, or its problem (code, status, detail, details). */
export type BatchResult = { output?: unknown } | { problem: BatchProblem };

export interface BatchProblem {
  code: string;
  status: number;
  detail?: string;
  errors?: unknown;
  details?: unknown;
}

const safeId = /^[A-Za-z0-9._:-]{1,128}$/;

/** The calls of a batch body, or ValidationFailed naming what is wrong with its shape. */
export function batchCalls(body: unknown): BatchCall[] {
  const calls = (body as { calls?: unknown } | undefined)?.calls;
  if (!Array.isArray(calls) || calls.length === 0) throw new ValidationFailed('A batch body is {"calls":[{"input":...}, ...]} with at least one call');
  if (calls.length > BATCH_LIMIT) throw new ValidationFailed(`A batch carries at most ${BATCH_LIMIT} calls (got ${calls.length})`);
  if (!calls.every((c) => c !== null && typeof c === 'object' && !Array.isArray(c))) throw new ValidationFailed('Every call of a batch is an object');
  return calls as BatchCall[];
}

/** The problem a call's error is answered with, as the single endpoint's problem handler would. */
function problemOf(err: unknown, logger: Logger | undefined): BatchProblem {
  if (err instanceof DomainError) {
    if (err.status >= 500) logger?.error({ err }, 'contract call failed');
    const details = err.details as { issues?: unknown } | undefined;
    return {
      code: err.code,
      status: err.status,
      detail: err.message,
      ...(details?.issues ? { errors: details.issues } : err.details !== undefined ? { details: err.details } : {}),
    };
  }
  logger?.error({ err }, 'unhandled error');
  // The caller sends a call answered this way again on its own, where every error gets the single
  // endpoint's full treatment.
  return { code: 'InternalError', status: 500, detail: 'Something went wrong on our side; quote the request id if you report it' };
}

export async function runBatch(o: {
  contract: Contract;
  handlers: ContractHandlers<Contract>;
  operation: string;
  calls: readonly BatchCall[];
  caller: Caller | undefined;
  served?: Histogram<'contract' | 'operation' | 'outcome' | 'batched'>;
  logger?: Logger;
}): Promise<BatchResult[]> {
  const batch = currentContext();
  const runOne = async (call: BatchCall): Promise<BatchResult> => {
    const end = o.served?.startTimer({ contract: o.contract.name, operation: o.operation, batched: 'true' });
    const requestId = typeof call.requestId === 'string' && safeId.test(call.requestId) ? call.requestId : (batch?.requestId ?? '');
    const correlationId = typeof call.correlationId === 'string' && safeId.test(call.correlationId) ? call.correlationId : requestId;
    // Each call continues its caller's trace when it names one (the batch request's otherwise).
    const traced = typeof call.traceparent === 'string' ? contextFromTraceparent(call.traceparent) : context.active();
    try {
      const output = await context.with(traced, () =>
        runWithContext({ requestId, correlationId, caller: o.caller }, () =>
          invokeOperation(o.contract, o.handlers, o.operation, call.input, callContextFromScope(), { inputIsWire: true }),
        ),
      );
      end?.({ outcome: 'ok' });
      return output === undefined ? {} : { output };
    } catch (err) {
      end?.({ outcome: 'error' });
      return { problem: problemOf(err, o.logger) };
    }
  };
  // runOne never rejects: each call's failure is its own result.
  const results = new Array<BatchResult>(o.calls.length);
  let next = 0;
  const lane = async () => {
    while (next < o.calls.length) {
      const i = next++;
      results[i] = await runOne(o.calls[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, o.calls.length) }, lane));
  return results;
}
