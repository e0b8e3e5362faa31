// Where a request goes, decided once and the same way for plain HTTP and WebSocket upgrades: the
// route it matched, the side (old or new) that serves it, the pool of that side and the pool of the
// other side (for a fallback or a shadow copy), and the sticky cookie to hand out if the client has
// no key yet. Pure: it reads the request and the table and changes neither.
import type { IncomingMessage } from 'node:http';
import type { CompiledRoute, RouteTable } from './route-table.ts';
import type { UpstreamPool } from './upstream-pool.ts';
import { sideFor, stickyKey, type Side } from './side-assignment.ts';

/** The route name used in metrics and logs for requests that matched no route. */
export const DEFAULT_ROUTE = '(default)';

export interface RouteDecision {
  route: CompiledRoute | undefined;
  routeName: string;
  side: Side;
  /** Serves the request. */
  pool: UpstreamPool;
  /** The other side's pool, if the route has a distinct one. */
  other: UpstreamPool | undefined;
  /** A `Set-Cookie` value that keeps this client in its bucket, when it had no key of its own. */
  setCookie: string | undefined;
  /** The side was chosen by the override header (a tester, or the shared secret). */
  forced: boolean;
}

/**
 * Decides the side of a request on `route` (already matched; undefined → the default pool).
 * `mayForce`: the caller may choose its side with the override header (a tester, or the shared secret).
 */
export function decideRoute(table: RouteTable, route: CompiledRoute | undefined, req: IncomingMessage, mayForce: boolean): RouteDecision {
  const rc = route?.config;
  if (!rc) {
    return { route, routeName: DEFAULT_ROUTE, side: 'old', pool: table.pools.get(table.config.defaultPool)!, other: undefined, setCookie: undefined, forced: false };
  }
  // A finished route has one side: the new one serves everything, there is nothing to fall back to.
  if (rc.old === undefined) return { route, routeName: rc.name, side: 'new', pool: table.pools.get(rc.new)!, other: undefined, setCookie: undefined, forced: false };
  let side: Side = 'old';
  let setCookie: string | undefined;
  const forced = mayForce ? forcedSide(req.headers[table.config.overrideHeader]) : undefined;
  if (forced) side = forced;
  else if (rc.weight >= 100) side = 'new';
  else if (rc.weight > 0) {
    // The sticky key is worked out only where the weight splits users: most routes are at 0 or 100.
    const sticky = stickyKey(req, table.config.stickyCookie);
    side = sideFor(rc.weight, sticky.key, rc.new);
    if (sticky.newCookie) setCookie = `${table.config.stickyCookie}=${sticky.newCookie}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000`;
  }
  const pool = table.pools.get(side === 'new' ? rc.new : rc.old)!;
  const other = rc.old === rc.new ? undefined : table.pools.get(side === 'new' ? rc.old : rc.new);
  return { route, routeName: rc.name, side, pool, other, setCookie, forced: forced !== undefined };
}

/** The side named by the override header, whatever its case (`new`, `NEW`, `Old`). */
function forcedSide(value: string | string[] | undefined): Side | undefined {
  if (typeof value !== 'string' || value.length > 3) return undefined;
  const v = value.toLowerCase();
  return v === 'old' || v === 'new' ? v : undefined;
}
