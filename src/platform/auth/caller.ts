import type { RequestHandler } from 'express';
import { bearerToken, hasScope } from '../../../lib/trust/index.ts';
import { currentContext, type Caller } from '../context/request-context.ts';
import { Forbidden, Unauthenticated } from '../errors/domain-error.ts';
import type { TokenVerifier } from './jwt.ts';

/**
 * Edge check: every /api request carries a valid bearer token. A token verified before and still
 * trusted is taken without a promise (a client sends the same token on every request); any other
 * goes through the full check. A refusal is thrown or rejected: express makes it next(err).
 */
export function authenticate(verifier: TokenVerifier): RequestHandler {
  const admit = (caller: Caller, next: () => void) => {
    const ctx = currentContext();
    if (ctx) ctx.caller = caller;
    next();
  };
  return (req, res, next) => {
    const header = req.headers.authorization;
    const token = bearerToken(header);
    if (!token) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new Unauthenticated(header ? 'The Authorization header must be "Bearer <token>"' : 'Send Authorization: Bearer <token>');
    }
    const known = verifier.remembered(token);
    if (known) return admit(known, next);
    return verifier.verify(token).then((caller) => admit(caller, next));
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
