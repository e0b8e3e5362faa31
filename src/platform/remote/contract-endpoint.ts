// The serving side of a remote contract: every deployable answers
// `POST /internal/contracts/<module>/<operation>` (and `.../<operation>/batch` for several calls of
// an idempotent operation, contract-batch.ts) for the modules it hosts, so an extracted
// service can call back into the monolith the same way the monolith calls it. The operation runs
// through invokeOperation, exactly like an in-process call (JSON round trip, schemas both sides);
// errors leave through the normal problem+json handler with their code and details intact, which
// is what the client rebuilds the typed error from.
import type { Histogram } from 'prom-client';
import type { Request, RequestHandler, Response, Router } from 'express';
import { strictRouter } from '../http/strict-router.ts';
import { bearerToken } from '../../../lib/trust/index.ts';
import type { Contract, ContractHandlers } from '../contracts/define-contract.ts';
import { callContextFromScope, invokeOperation } from '../contracts/in-process-binding.ts';
import { currentContext } from '../context/request-context.ts';
import { NotFound } from '../errors/domain-error.ts';
import { jsonBody } from '../http/json-body.ts';
import type { Logger } from '../logging/logger.ts';
import { batchCalls, runBatch } from './contract-batch.ts';
import { END_USER_HEADER, ServiceUnauthenticated, type ServiceCredentials } from './service-credentials.ts';

export const INTERNAL_PREFIX = '/internal/contracts';

export interface ServedContract {
  contract: Contract;
  handlers: ContractHandlers<Contract>;
}

export function contractEndpoint(o: {
  served: ReadonlyMap<string, ServedContract>;
  credentials: ServiceCredentials | undefined;
  bodyLimit: string;
  maxDepth: number;
  /** contract_served_duration_seconds: each call's time in the provider, batched or not. */
  servedDuration?: Histogram<'contract' | 'operation' | 'outcome' | 'batched'>;
  logger?: Logger;
}): Router {
  const router = strictRouter();
  const authenticated: RequestHandler = async (req, _res, next) => {
    const module = String(req.params.module);
    if (!o.credentials) throw new ServiceUnauthenticated('Service credentials are not configured here (set SERVICE_JWT_SECRET)');
    const header = bearerToken(req.get('authorization'));
    // Check the credential before saying anything about what this deployable hosts.
    await o.credentials.verifyService(header, module);
    const endUser = req.get(END_USER_HEADER);
    const ctx = currentContext();
    if (ctx) ctx.caller = endUser ? await o.credentials.verifyEndUser(endUser, module) : undefined;
    next();
  };
  const body = jsonBody({ limit: o.bodyLimit, maxDepth: o.maxDepth, anyContentType: true });
  const servedEntry = (req: Request) => {
    const module = String(req.params.module);
    const operation = String(req.params.operation);
    const entry = o.served.get(module);
    if (!entry) throw new NotFound(`${module} does not run in this deployable`);
    if (!Object.hasOwn(entry.contract.operations, operation)) throw new NotFound(`${module} has no operation ${operation}`);
    return { entry, operation };
  };
  // Written directly rather than through res.json: express would hash every answer for an ETag,
  // which no caller of a POST uses.
  const answer = (res: Response, payload: unknown) => {
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(payload));
  };

  router.post(`${INTERNAL_PREFIX}/:module/:operation`, authenticated, body, async (req, res) => {
    const { entry, operation } = servedEntry(req);
    const end = o.servedDuration?.startTimer({ contract: entry.contract.name, operation, batched: 'false' });
    let outcome = 'error';
    try {
      const input = ((req.body ?? {}) as { input?: unknown }).input;
      // The input arrived as JSON text, so it is already what survives JSON: no second round trip.
      const output = await invokeOperation(entry.contract, entry.handlers, operation, input, callContextFromScope(), { inputIsWire: true });
      outcome = 'ok';
      answer(res, output === undefined ? {} : { output });
    } finally {
      end?.({ outcome });
    }
  });

  // Only an idempotent operation has a batch form: a batch is retried as a whole.
  router.post(`${INTERNAL_PREFIX}/:module/:operation/batch`, authenticated, body, async (req, res) => {
    const { entry, operation } = servedEntry(req);
    if (!entry.contract.operations[operation]!.idempotent) throw new NotFound(`${entry.contract.name}.${operation} is not idempotent and has no batch form`);
    const calls = batchCalls(req.body);
    const results = await runBatch({ contract: entry.contract, handlers: entry.handlers, operation, calls, caller: currentContext()?.caller, served: o.servedDuration, logger: o.logger });
    answer(res, { results });
  });
  return router;
}
