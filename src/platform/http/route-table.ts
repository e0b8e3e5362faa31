// The module routes of the public listener, dispatched in one step. For every request express walks
// each module's router and, inside it, each route's layer in turn (matching, decoding, trimming
// prefixes, wrapping `next`); here the routes declared with `route()` are matched from one list per
// method, with express's own matcher and options for a strict router (path-to-regexp: case-sensitive,
// no trailing slash, parameters decoded), in declaration order, and the matching route's handler
// runs with `req.params` and `req.route` set as express sets them. A request no declared route takes
// (another method, OPTIONS, an unknown path, a parameter that cannot be decoded) goes on to the
// routers themselves, which still hold every route: 404s, OPTIONS answers and decoding errors are
// express's, as before.
import type { Request, RequestHandler, Response, Router } from 'express';
import { match, type MatchFunction } from 'path-to-regexp';
import { declaredHandlers } from './route.ts';

interface Entry {
  match: MatchFunction<Record<string, string>>;
  /** What express puts on `req.route`: read for the metrics label, the span name and idempotency scopes. */
  route: { path: string };
  handler: (req: Request, res: Response) => unknown;
}

export function routeTable(routers: readonly Router[]): RequestHandler {
  const byMethod = new Map<string, Entry[]>();
  for (const router of routers) {
    for (const { method, path, handler } of declaredHandlers(router)) {
      const list = byMethod.get(method.toUpperCase()) ?? byMethod.set(method.toUpperCase(), []).get(method.toUpperCase())!;
      list.push({ match: match<Record<string, string>>(path, { sensitive: true, end: true, trailing: false, decode: decodeURIComponent }), route: { path }, handler });
    }
  }
  return (req, res, next) => {
    // As express's Route: a HEAD is served by the GET route.
    const routes = byMethod.get(req.method === 'HEAD' ? 'GET' : req.method);
    if (routes) {
      const path = req.path;
      for (const entry of routes) {
        let hit: ReturnType<Entry['match']>;
        try {
          hit = entry.match(path);
        } catch {
          break; // a parameter that cannot be decoded: the routers answer it as they always did
        }
        if (!hit) continue;
        req.params = hit.params;
        (req as { route?: unknown }).route = entry.route;
        // Returned: express handles a rejected promise (next(err)) as it does for the route's layer.
        return entry.handler(req, res) as void;
      }
    }
    next();
  };
}
