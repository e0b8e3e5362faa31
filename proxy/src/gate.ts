// The gate in front of forwarding: the route's token check, the forced-side check and the rate
// limit. Only requests that need one of them pay for it (a token check and a Redis round trip are
// async); every other request goes straight to its route decision. WebSocket upgrades pass the
// same checks except the rate limit (a tunnel is one request, however long it lives).
import type { IncomingMessage } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { bearerToken, hasScope, TESTER_SCOPE, TokenKeysUnavailable, type Identity, type TokenVerifier } from '../../lib/trust/index.ts';
import type { CompiledRoute, RouteTable } from './route-table.ts';
import type { RateLimiter, Verdict } from './rate-limit.ts';
import type { ProxyMetrics } from './metrics.ts';
import { clientAddress } from './side-assignment.ts';
import { DEFAULT_ROUTE } from './route-decision.ts';

/** Why the gate turned a request away: what the client is told. */
export interface Refusal {
  status: 401 | 403 | 429 | 503;
  code: string;
  detail: string;
  headers: Record<string, string>;
}

/** The gate's word on a request: refused, or let through (and whether it may choose its side). */
export type Admission = { refusal: Refusal } | { refusal: undefined; mayForce: boolean };

const UNAUTHENTICATED = { 'www-authenticate': 'Bearer' };

export class Gate {
  private readonly verifier: TokenVerifier;
  private readonly limiter: RateLimiter;
  private readonly metrics: ProxyMetrics;

  constructor(verifier: TokenVerifier, limiter: RateLimiter, metrics: ProxyMetrics) {
    this.verifier = verifier;
    this.limiter = limiter;
    this.metrics = metrics;
  }

  /** Whether a request on `route` has to pass the gate at all. */
  needed(table: RouteTable, route: CompiledRoute | undefined, req: IncomingMessage): boolean {
    const rc = route?.config;
    return rc?.auth?.required === true || rc?.rateLimit !== undefined || table.config.rateLimit !== undefined || wantsToForce(table, route, req);
  }

  /** Token check, forced-side check, then (unless `rateLimit` is false) the rate limit. */
  async admit(req: IncomingMessage, table: RouteTable, route: CompiledRoute | undefined, rateLimit = true): Promise<Admission> {
    const rc = route?.config;
    const forcing = wantsToForce(table, route, req);
    const secretOk = forcing && secretMatches(table, req);
    let identity: Identity | undefined;
    if (rc?.auth?.required || (forcing && !secretOk)) {
      const checked = await this.identify(req);
      if (rc?.auth?.required) {
        if ('refusal' in checked) return checked;
        if (rc.auth.scope && !hasScope(checked.identity, rc.auth.scope)) {
          return { refusal: { status: 403, code: 'Forbidden', detail: `the scope "${rc.auth.scope}" is required`, headers: {} } };
        }
      }
      if ('identity' in checked) identity = checked.identity;
    }
    // A tester (or whoever holds the shared secret) may choose a side; anyone else is routed by weight.
    const mayForce = secretOk || (forcing && hasScope(identity, TESTER_SCOPE));
    const limit = rateLimit ? (rc?.rateLimit ?? table.config.rateLimit) : undefined;
    if (!limit) return { refusal: undefined, mayForce };
    // The verified subject where the route checks tokens, else the address (users behind one NAT share).
    const client = rc?.auth?.required && identity ? `sub:${identity.sub}` : `ip:${clientAddress(req)}`;
    const bucket = rc?.rateLimit ? `${rc.name}:${client}` : `*:${client}`;
    const v: Verdict | Promise<Verdict> = this.limiter.take(bucket, limit);
    const verdict = v instanceof Promise ? await v : v;
    if (verdict.allowed) return { refusal: undefined, mayForce };
    this.metrics.rateLimited.labels(rc?.name ?? DEFAULT_ROUTE).inc();
    return {
      refusal: {
        status: 429,
        code: 'RateLimited',
        detail: `rate limit of ${limit.capacity} requests, ${limit.refillPerSecond}/s refill`,
        headers: { 'retry-after': String(verdict.retryAfterSeconds) },
      },
    };
  }

  /** The caller's verified identity, or why there is none. */
  async identify(req: IncomingMessage): Promise<{ identity: Identity } | { refusal: Refusal }> {
    const token = bearerToken(req.headers.authorization);
    if (!token) return { refusal: { status: 401, code: 'Unauthenticated', detail: 'a bearer token is required', headers: UNAUTHENTICATED } };
    try {
      return { identity: await this.verifier.verify(token) };
    } catch (err) {
      if (err instanceof TokenKeysUnavailable) return { refusal: { status: 503, code: 'TokenKeysUnavailable', detail: err.message, headers: { 'retry-after': '5' } } };
      return { refusal: { status: 401, code: 'Unauthenticated', detail: (err as Error).message, headers: UNAUTHENTICATED } };
    }
  }
}

/** The request carries the forced-side header on a route that has two sides to choose from. */
function wantsToForce(table: RouteTable, route: CompiledRoute | undefined, req: IncomingMessage): boolean {
  const rc = route?.config;
  return rc !== undefined && rc.old !== undefined && rc.old !== rc.new && req.headers[table.config.overrideHeader] !== undefined;
}

/** The header that carries the shared secret beside the forced-side header. */
export function overrideSecretHeader(overrideHeader: string): string {
  // Asked on every forwarded request: the name is built once per configured header, not each time.
  if (overrideHeader !== lastOverrideHeader) {
    lastOverrideHeader = overrideHeader;
    lastSecretHeader = `${overrideHeader}-secret`;
  }
  return lastSecretHeader;
}
let lastOverrideHeader = '';
let lastSecretHeader = '-secret';

/** The shared secret of the config was sent (compared in constant time). */
function secretMatches(table: RouteTable, req: IncomingMessage): boolean {
  const secret = table.config.overrideSecret;
  if (!secret) return false;
  const sent = req.headers[overrideSecretHeader(table.config.overrideHeader)];
  if (typeof sent !== 'string') return false;
  // Digests of equal length, so neither the comparison's time nor its early exit says how long the secret is.
  return timingSafeEqual(createHash('sha256').update(sent).digest(), createHash('sha256').update(secret).digest());
}
