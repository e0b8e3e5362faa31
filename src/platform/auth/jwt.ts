// End-user identity is a bearer JWT, checked at the edge and again inside modules. The checking
// itself is lib/trust's, shared with the proxy; here its refusals become the kernel's typed
// errors (401 Unauthenticated, 503 ServiceUnavailable when a JWKS cannot be fetched).
import { createTokenVerifier as createSharedVerifier, TokenKeysUnavailable, type VerifierOptions } from '../../../lib/trust/index.ts';
import type { Config } from '../config/env.ts';
import type { Caller } from '../context/request-context.ts';
import { ServiceUnavailable, Unauthenticated } from '../errors/domain-error.ts';

export { mintToken } from '../../../lib/trust/index.ts';

export interface TokenVerifier {
  verify(token: string): Promise<Caller>;
  /** The caller of a token verified before and still trusted, without a promise (lib/trust's cache). */
  remembered(token: string): Caller | undefined;
}

export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  const shared = createSharedVerifier(options);
  return {
    remembered: (token) => shared.remembered(token),
    async verify(token) {
      try {
        return await shared.verify(token);
      } catch (err) {
        if (err instanceof TokenKeysUnavailable) throw new ServiceUnavailable(err.message);
        throw new Unauthenticated((err as Error).message);
      }
    },
  };
}

/** The verifier a deployable's configuration asks for. */
export function tokenVerifierFor(config: Config): TokenVerifier {
  return createTokenVerifier({
    secret: config.jwtSecret,
    jwksUrl: config.JWT_JWKS_URL,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    maxLifetimeSeconds: config.JWT_MAX_LIFETIME_SECONDS,
  });
}
