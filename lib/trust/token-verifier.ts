// One verifier of end-user tokens for every deployable: the monolith, an extracted service and the
// proxy check a bearer JWT with this same code, so a token one of them accepts the others accept
// too, and a rule tightened here is tightened everywhere. HS256 with a shared secret, or RS/ES keys
// fetched from a JWKS URL; issuer and audience when configured; a token must expire, and within
// the configured maximum lifetime, or a stolen one would be good for years.
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { scopesFromClaims, type Identity } from './identity.ts';

export interface VerifierOptions {
  /** HS256 key; ignored once `jwksUrl` is set. */
  secret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** Longest lifetime (exp − iat, or exp − now) a token may claim. Default 24 h. */
  maxLifetimeSeconds?: number;
  /** Clock skew allowed on exp/nbf/iat, in seconds. Default 30. */
  clockToleranceSeconds?: number;
  /** Verified tokens remembered until they expire (bounded). Default 5,000. */
  cacheSize?: number;
  /**
   * How long fetched JWKS keys are used before they are fetched again (jose's `cacheMaxAge`), and
   * so how long a token verified with a key the JWKS has since dropped can still be accepted.
   * Default 10 minutes.
   */
  keysMaxAgeMs?: number;
  now?: () => number;
}

/** Why a token was refused; `status` is what an HTTP edge answers. */
export class TokenRejected extends Error {
  override name = 'TokenRejected';
  readonly status = 401 as const;
}

/** The keys could not be fetched: an outage on our side, not a bad token. */
export class TokenKeysUnavailable extends Error {
  override name = 'TokenKeysUnavailable';
  readonly status = 503 as const;
}

export interface TokenVerifier {
  /** The identity a token speaks for; throws TokenRejected or TokenKeysUnavailable. */
  verify(token: string): Promise<Identity>;
  /**
   * The identity of a token verified before and still trusted (the cache `verify` keeps), without
   * a promise; undefined for any other token, which then goes to `verify`.
   */
  remembered(token: string): Identity | undefined;
}

export const DEFAULT_MAX_LIFETIME_SECONDS = 24 * 3600;

interface Verified {
  identity: Identity;
  /** The token's own expiry, in ms. */
  expiresAt: number;
  /** The JWKS key it was verified with (none with a shared secret). */
  kid: string | undefined;
}
const MAX_SUBJECT = 200;

export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  if (!options.jwksUrl && !options.secret) throw new Error('a token verifier needs a secret or a JWKS URL');
  const now = options.now ?? Date.now;
  const maxLifetime = options.maxLifetimeSeconds ?? DEFAULT_MAX_LIFETIME_SECONDS;
  const tolerance = options.clockToleranceSeconds ?? 30;
  const cacheSize = options.cacheSize ?? 5_000;
  const jwks = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl), options.keysMaxAgeMs === undefined ? {} : { cacheMaxAge: options.keysMaxAgeMs }) : undefined;
  const secret = jwks ? undefined : new TextEncoder().encode(options.secret);
  const expected = {
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
    clockTolerance: tolerance,
    currentDate: undefined as Date | undefined,
  };
  // A client sends the same token on every request: its signature is checked once, and the
  // identity it gave is trusted until the token's own expiry. Oldest out first when full. With a
  // JWKS, a remembered token is trusted no longer than the keys it was checked with: once they are
  // stale (keysMaxAgeMs) or no longer hold its key, it is checked again against the keys as fetched
  // then, so a key removed from the JWKS stops being accepted when it would without this cache.
  const verified = new Map<string, Verified>();

  function stillTrusted(hit: Verified): boolean {
    if (hit.expiresAt <= now()) return false;
    if (!jwks) return true;
    return jwks.fresh && (jwks.jwks()?.keys.some((k) => k.kid === hit.kid) ?? false);
  }

  async function check(token: string): Promise<Verified> {
    let payload: JWTPayload;
    let kid: string | undefined;
    try {
      const at = { ...expected, currentDate: new Date(now()) };
      const result = jwks ? await jwtVerify(token, jwks, at) : await jwtVerify(token, secret!, { ...at, algorithms: ['HS256'] });
      payload = result.payload;
      kid = result.protectedHeader.kid;
    } catch (err) {
      if (jwks && (err instanceof joseErrors.JWKSTimeout || !(err instanceof joseErrors.JOSEError))) {
        throw new TokenKeysUnavailable('The token keys could not be fetched; try again shortly');
      }
      if (err instanceof joseErrors.JWTExpired) throw new TokenRejected('The token has expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw new TokenRejected(`The token's ${err.claim} claim is not accepted`);
      throw new TokenRejected('The token is not valid');
    }
    const seconds = now() / 1000;
    if (typeof payload.exp !== 'number') throw new TokenRejected('The token has no expiry (exp)');
    const lifetime = payload.exp - (typeof payload.iat === 'number' ? Math.min(payload.iat, seconds) : seconds);
    if (lifetime > maxLifetime + tolerance) {
      throw new TokenRejected(`The token lives longer than the ${maxLifetime} s this deployable accepts`);
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new TokenRejected('The token has no subject');
    // Modules key accounts and orders by subject; keep it within what their contracts accept.
    if (payload.sub.length > MAX_SUBJECT) throw new TokenRejected(`The token subject is longer than ${MAX_SUBJECT} characters`);
    // Subjects become account and order keys, and log fields: no control characters in them.
    if (/[\u0000-\u001f\u007f-\u009f]/.test(payload.sub)) throw new TokenRejected('The token subject contains control characters');
    return { identity: { sub: payload.sub, scopes: scopesFromClaims(payload) }, expiresAt: payload.exp * 1000, kid };
  }

  function remembered(token: string): Identity | undefined {
    const hit = verified.get(token);
    if (!hit) return undefined;
    if (stillTrusted(hit)) return hit.identity;
    verified.delete(token);
    return undefined;
  }

  return {
    remembered,
    async verify(token) {
      const known = remembered(token);
      if (known) return known;
      const fresh = await check(token);
      verified.set(token, fresh);
      if (verified.size > cacheSize) verified.delete(verified.keys().next().value!);
      return fresh.identity;
    },
  };
}
