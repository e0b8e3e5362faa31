// End-user identity is a bearer JWT, checked at the edge and again inside modules.
// Development signs HS256 with JWT_SECRET; production can verify against a JWKS URL instead.
import { SignJWT, jwtVerify, createRemoteJWKSet, errors as joseErrors, type JWTPayload } from 'jose';
import type { Caller } from '../context/request-context.ts';
import { ServiceUnavailable, Unauthenticated } from '../errors/domain-error.ts';

export interface TokenVerifier {
  verify(token: string): Promise<Caller>;
}

export function callerFromClaims(claims: JWTPayload): Caller {
  if (typeof claims.sub !== 'string' || claims.sub.length === 0) throw new Unauthenticated('The token has no subject');
  // Modules key accounts and orders by subject; keep it within what their contracts accept.
  if (claims.sub.length > 200) throw new Unauthenticated('The token subject is longer than 200 characters');
  const raw = (claims.scope ?? claims.scp) as unknown;
  const scopes = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.split(' ').filter(Boolean) : [];
  return { sub: claims.sub, scopes };
}

export interface VerifierOptions {
  secret: string;
  jwksUrl?: string;
  /** When set, tokens must carry this `iss` / `aud` (production identity providers do). */
  issuer?: string;
  audience?: string;
}

export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  const key = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : new TextEncoder().encode(options.secret);
  const claims = { ...(options.issuer ? { issuer: options.issuer } : {}), ...(options.audience ? { audience: options.audience } : {}) };
  // A client sends the same token on every request: verify its signature once, then trust the
  // result until the token's own expiry. Bounded, oldest out first.
  const verified = new Map<string, { caller: Caller; expiresAt: number }>();
  return {
    async verify(token) {
      const hit = verified.get(token);
      if (hit && hit.expiresAt > Date.now()) return hit.caller;
      try {
        const { payload } = options.jwksUrl
          ? await jwtVerify(token, key as ReturnType<typeof createRemoteJWKSet>, claims)
          : await jwtVerify(token, key as Uint8Array, { algorithms: ['HS256'], ...claims });
        const caller = callerFromClaims(payload);
        verified.set(token, { caller, expiresAt: payload.exp ? payload.exp * 1000 : Date.now() + 60_000 });
        if (verified.size > 2000) verified.delete(verified.keys().next().value!);
        return caller;
      } catch (err) {
        if (err instanceof Unauthenticated) throw err;
        // The key server could not be reached: our outage, not the caller's bad token.
        if (options.jwksUrl && (err instanceof joseErrors.JWKSTimeout || !(err instanceof joseErrors.JOSEError))) {
          throw new ServiceUnavailable('The token keys could not be fetched; try again shortly');
        }
        const reason = err instanceof joseErrors.JWTExpired ? 'The token has expired' : 'The token is not valid';
        throw new Unauthenticated(reason);
      }
    },
  };
}

export async function mintToken(options: { sub: string; scopes?: string[]; secret: string; expiresIn?: string; issuer?: string; audience?: string }): Promise<string> {
  const jwt = new SignJWT({ scope: (options.scopes ?? []).join(' ') });
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return jwt
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '12h')
    .sign(new TextEncoder().encode(options.secret));
}
