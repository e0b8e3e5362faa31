// The serving side of a remote contract: every deployable answers
// `POST /internal/contracts/<module>/<operation>` for the modules it hosts, so an extracted
// service can call back into the monolith the same way the monolith calls it. The operation runs
// through invokeOperation, exactly like an in-process call (JSON round trip, schemas both sides);
// errors leave through the normal problem+json handler with their code and details intact, which
// is what the client rebuilds the typed error from.
import type { Router } from 'express';
import { strictRouter } from '../http/strict-router.ts';
import { bearerToken } from '../../../lib/trust/index.ts';
import type { Contract, ContractHandlers } from '../contracts/define-contract.ts';
import { callContextFromScope, invokeOperation } from '../contracts/in-process-binding.ts';
import { currentContext } from '../context/request-context.ts';
import { NotFound } from '../errors/domain-error.ts';
import { jsonBody } from '../http/json-body.ts';
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
}): Router {
  const router = strictRouter();
  router.post(
    `${INTERNAL_PREFIX}/:module/:operation`,
    async (req, _res, next) => {
      const module = String(req.params.module);
      if (!o.credentials) throw new ServiceUnauthenticated('Service credentials are not configured here (set SERVICE_JWT_SECRET)');
      const header = bearerToken(req.get('authorization'));
      // Check the credential before saying anything about what this deployable hosts.
      await o.credentials.verifyService(header, module);
      const endUser = req.get(END_USER_HEADER);
      const ctx = currentContext();
      if (ctx) ctx.caller = endUser ? await o.credentials.verifyEndUser(endUser, module) : undefined;
      next();
    },
    jsonBody({ limit: o.bodyLimit, maxDepth: o.maxDepth, anyContentType: true }),
    async (req, res) => {
      const module = String(req.params.module);
      const operation = String(req.params.operation);
      const entry = o.served.get(module);
      if (!entry) throw new NotFound(`${module} does not run in this deployable`);
      if (!Object.hasOwn(entry.contract.operations, operation)) throw new NotFound(`${module} has no operation ${operation}`);
      const body = (req.body ?? {}) as { input?: unknown };
      // The input arrived as JSON text, so it is already what survives JSON: no second round trip.
      const output = await invokeOperation(entry.contract, entry.handlers, operation, body.input, callContextFromScope(), { inputIsWire: true });
      // Written directly rather than through res.json: express would hash every answer for an
      // ETag, which no caller of a POST uses.
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify(output === undefined ? {} : { output }));
    },
  );
  return router;
}
