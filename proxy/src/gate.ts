// The gate in front of forwarding: the route's token check and the rate limit. Only routes that
// ask for either pay for it (a JWT check and a Redis round trip are async); every other request
// goes straight to its route decision. WebSocket upgrades pass the same token check, not the rate
// limit (a tunnel is one request, however long it lives).
import type { IncomingMessage } from 'node:http';
import type { CompiledRoute, RouteTable } from './route-table.ts';
import type { JwtVerifier } from './jwt-auth.ts';
import type { RateLimiter, Verdict } from './rate-limit.ts';
import type { ProxyMetrics } from './metrics.ts';
import { clientAddress } from './side-assignment.ts';
import { DEFAULT_ROUTE } from './route-decision.ts';

/** Why the gate turned a request away: what the client is told. */
export interface Refusal {
  status: 401 | 403 | 429;
  title: string;
  detail: string;
  headers: Record<string, string>;
}

export class Gate {
  private readonly verifier: JwtVerifier;
  private readonly limiter: RateLimiter;
  private readonly metrics: ProxyMetrics;

  constructor(verifier: JwtVerifier, limiter: RateLimiter, metrics: ProxyMetrics) {
    this.verifier = verifier;
    this.limiter = limiter;
    this.metrics = metrics;
  }

  /** Whether a request on `route` has to pass the gate at all. */
  needed(table: RouteTable, route: CompiledRoute | undefined): boolean {
    const rc = route?.config;
    return rc?.auth?.required === true || rc?.rateLimit !== undefined || table.config.rateLimit !== undefined;
  }

  /** The route's token check; undefined when it passes, with the verified subject in `passed`. */
  async authorize(req: IncomingMessage, route: CompiledRoute | undefined): Promise<{ refusal?: Refusal; sub?: string }> {
    const auth = route?.config.auth;
    if (!auth?.required) return {};
    const result = await this.verifier.check(req.headers.authorization, auth.scope);
    if (result.ok) return { sub: result.sub };
    return {
      refusal: {
        status: result.status,
        title: result.status === 401 ? 'Unauthorized' : 'Forbidden',
        detail: result.reason,
        headers: result.status === 401 ? { 'www-authenticate': 'Bearer' } : {},
      },
    };
  }

  /** Token check, then rate limit: the refusal to answer with, or undefined to go on. */
  async admit(req: IncomingMessage, table: RouteTable, route: CompiledRoute | undefined): Promise<Refusal | undefined> {
    const rc = route?.config;
    const { refusal, sub } = await this.authorize(req, route);
    if (refusal) return refusal;
    const limit = rc?.rateLimit ?? table.config.rateLimit;
    if (!limit) return undefined;
    // The verified subject where the route checks tokens, else the address (users behind one NAT share).
    const client = sub ? `sub:${sub}` : `ip:${clientAddress(req)}`;
    const bucket = rc?.rateLimit ? `${rc.name}:${client}` : `*:${client}`;
    const v: Verdict | Promise<Verdict> = this.limiter.take(bucket, limit);
    const verdict = v instanceof Promise ? await v : v;
    if (verdict.allowed) return undefined;
    this.metrics.rateLimited.labels(rc?.name ?? DEFAULT_ROUTE).inc();
    return {
      status: 429,
      title: 'Too Many Requests',
      detail: `rate limit of ${limit.capacity} requests, ${limit.refillPerSecond}/s refill`,
      headers: { 'retry-after': String(verdict.retryAfterSeconds) },
    };
  }
}
