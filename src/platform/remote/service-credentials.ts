// No internal endpoint is open. A deployable calling another presents a short-lived service
// credential (HS256 with SERVICE_JWT_SECRET; iss = calling deployable, aud = target module,
// exp ≤ 60 s). The end user travels separately, in its own signed header, so the callee checks the
// user's scopes again exactly as it would in-process, and a service token never passes for a user.
import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import type { Caller } from '../context/request-context.ts';
import { defineError } from '../errors/domain-error.ts';

// Their own codes, so a caller can tell "my service key is wrong" (a deployment fault) from "the
// end user may not do this" (Unauthenticated/Forbidden, which travel back to the user unchanged).
export const ServiceUnauthenticated = defineError('ServiceUnauthenticated', 401, 'Internal endpoints need a valid service credential');
export const ServiceForbidden = defineError('ServiceForbidden', 403, 'This service credential is not for this module');

export const SERVICE_TOKEN_TTL_S = 60;
export const END_USER_HEADER = 'x-end-user';
/** Verified tokens remembered per deployable (service tokens are a handful; end users' fill the rest). */
const VERIFIED_CACHE_SIZE = 5_000;

type Kind = 'service' | 'end-user';

export interface ServiceCredentials {
  /** A service token for calls to `audience`; cached for half its lifetime. */
  serviceToken(audience: string): Promise<string>;
  /** The end user's identity as a token for `audience`; cached likewise. */
  endUserToken(caller: Caller, audience: string): Promise<string>;
  /** Checks a service token meant for `audience`; answers the calling deployable. */
  verifyService(token: string | undefined, audience: string): Promise<string>;
  verifyEndUser(token: string, audience: string): Promise<Caller>;
}

export function serviceCredentials(options: { secret: string; deployable: string; ttlSeconds?: number; now?: () => number }): ServiceCredentials {
  const key = new TextEncoder().encode(options.secret);
  const ttl = Math.min(options.ttlSeconds ?? SERVICE_TOKEN_TTL_S, SERVICE_TOKEN_TTL_S);
  const now = options.now ?? (() => Date.now());
  const cache = new Map<string, { token: string; renewAt: number }>();

  async function mint(kind: Kind, audience: string, sub: string, scopes?: string[]): Promise<string> {
    const cacheKey = `${kind}\u0000${audience}\u0000${sub}\u0000${scopes?.join(' ') ?? ''}`;
    const hit = cache.get(cacheKey);
    if (hit && hit.renewAt > now()) return hit.token;
    const iat = Math.floor(now() / 1000);
    const token = await new SignJWT({ kind, ...(scopes ? { scope: scopes.join(' ') } : {}) })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(options.deployable)
      .setAudience(audience)
      .setSubject(sub)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .sign(key);
    if (cache.size > 1_000) cache.clear(); // bounded: many end users must not grow this forever
    cache.set(cacheKey, { token, renewAt: now() + (ttl * 1000) / 2 });
    return token;
  }

  // A caller reuses its token for half the token's life, so a callee sees the same few strings
  // thousands of times: the signature is checked once per string and the claims it carries are
  // remembered until the token's own expiry (the same instant jose would call it expired). The
  // claims checks below still run on every call. A new secret means new credentials, so a
  // rotated key starts with an empty cache.
  const verified = new Map<string, JWTPayload & { exp: number }>();

  async function signatureAndExpiry(token: string, kind: Kind): Promise<JWTPayload> {
    const hit = verified.get(token);
    if (hit) {
      if (Math.floor(now() / 1000) < hit.exp) return hit;
      verified.delete(token);
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, { algorithms: ['HS256'], currentDate: new Date(now()) }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new ServiceUnauthenticated(`The ${kind} credential has expired`);
      throw new ServiceUnauthenticated(`The ${kind} credential is not valid`);
    }
    if (typeof payload.exp === 'number') {
      // Bounded: many end users must not grow this forever; the oldest entry goes first.
      if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
      verified.set(token, payload as JWTPayload & { exp: number });
    }
    return payload;
  }

  async function check(token: string, audience: string, kind: Kind) {
    const payload = await signatureAndExpiry(token, kind);
    if (payload.kind !== kind) throw new ServiceUnauthenticated(`Expected a ${kind} credential`);
    if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number' || payload.exp - payload.iat > SERVICE_TOKEN_TTL_S) {
      throw new ServiceUnauthenticated(`The ${kind} credential lives longer than ${SERVICE_TOKEN_TTL_S} s`);
    }
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!aud.includes(audience)) throw new ServiceForbidden(`This ${kind} credential is for ${aud.join(', ') || 'nobody'}, not ${audience}`);
    if (typeof payload.iss !== 'string' || typeof payload.sub !== 'string') throw new ServiceUnauthenticated(`The ${kind} credential names no issuer or subject`);
    return payload;
  }

  return {
    serviceToken: (audience) => mint('service', audience, options.deployable),
    endUserToken: (caller, audience) => mint('end-user', audience, caller.sub, caller.scopes),
    async verifyService(token, audience) {
      if (!token) throw new ServiceUnauthenticated('Internal endpoints need a service credential: Authorization: Bearer <service token>');
      return (await check(token, audience, 'service')).iss as string;
    },
    async verifyEndUser(token, audience) {
      const p = await check(token, audience, 'end-user');
      const scope = typeof p.scope === 'string' ? p.scope.split(' ').filter(Boolean) : [];
      return { sub: p.sub as string, scopes: scope };
    },
  };
}
