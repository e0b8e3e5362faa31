import type { RequestHandler } from 'express';
import { bearerToken, hasScope } from '../../../lib/trust/index.ts';
import { currentContext, type Caller } from '../context/request-context.ts';
import { Forbidden, Unauthenticated } from '../errors/domain-error.ts';
import type { TokenVerifier } from './jwt.ts';

/** Edge check: every /api request carries a valid bearer token. */
export function authenticate(verifier: TokenVerifier): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    const token = bearerToken(header);
    if (!token) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new Unauthenticated(header ? 'The Authorization header must be "Bearer <token>"' : 'Send Authorization: Bearer <token>');
    }
    const caller = await verifier.verify(token);
    const ctx = currentContext();
    if (ctx) ctx.caller = caller;
    next();
  };
}

/** The end user on whose behalf this code runs; modules call this rather than trusting the edge. */
export function requireCaller(caller: Caller | undefined = currentContext()?.caller): Caller {
  if (!caller) throw new Unauthenticated();
  return caller;
}

/** The caller, if it has `scope` (the admin scope grants every scope, as at the proxy). */
export function requireScope(scope: string, caller: Caller | undefined = currentContext()?.caller): Caller {
  const c = requireCaller(caller);
  if (!hasScope(c, scope)) throw new Forbidden(`This needs the "${scope}" scope`);
  return c;
}
