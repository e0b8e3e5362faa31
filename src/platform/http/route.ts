// A route of a module's REST adapter, declared once: its method and path, the zod schemas of its
// path parameters, query and body, what it answers, the errors it may raise, who may call it,
// whether it is an idempotent write or a deprecated version. `route` registers the express handler
// that validates with those schemas (in that order: access, path, query, body — a bad request is
// refused before any use case runs) and records the declaration beside the router, where the
// OpenAPI document of the deployable is generated from (openapi/public-document.ts). The document
// cannot drift from what the route accepts: they are the same schemas.
import type { Request, Response, Router } from 'express';
import type { z } from 'zod';
import type { AnyErrorClass } from '../errors/domain-error.ts';
import { parseOrThrow } from '../errors/validation.ts';
import { requireScope } from '../auth/caller.ts';
import type { ModuleStore } from '../data/module-store.ts';
import { idempotent, type IdempotencyKey } from './idempotency.ts';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface HeaderSpec {
  description: string;
  schema?: z.ZodType;
}

export interface ResponseSpec {
  description: string;
  /** The JSON body; none for an empty answer. */
  body?: z.ZodType;
  headers?: Record<string, HeaderSpec>;
}

/** RFC 9745 Deprecation and RFC 8594 Sunset of a version that has a successor. */
export interface Deprecation {
  deprecation: string;
  sunset: string;
  /** Where the same resource lives in the next version. */
  successor(params: Record<string, string>): string;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteSpec<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined> {
  method: Method;
  /** Express syntax (`/api/v1/products/:sku`). */
  path: string;
  summary: string;
  description?: string;
  params?: P;
  query?: Q;
  body?: B;
  /** What a request that succeeds answers, by status. */
  responses: Record<number, ResponseSpec>;
  /** Domain errors the route may answer (their code and status), beyond the ones every route may. */
  errors?: readonly AnyErrorClass[];
  /** `user` (default): any valid bearer token; `admin`: a token with the admin scope. */
  auth?: 'user' | 'admin';
  /** A write replayed for a repeated Idempotency-Key (the key is claimed with the effect). */
  idempotent?: { store: ModuleStore; ttlSeconds: number };
  deprecated?: Deprecation;
  handler(input: { params: Parsed<P>; query: Parsed<Q>; body: Parsed<B>; key: IdempotencyKey }, res: Response, req: Request): Promise<void>;
}

export type DeclaredRoute = Omit<RouteSpec<z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>, 'handler' | 'idempotent'> & { idempotent: boolean };

const declarations = new WeakMap<Router, DeclaredRoute[]>();

/** A declared route's method, path and the handler `route` registered for it. */
export interface RouteHandler {
  method: Method;
  path: string;
  handler: (req: Request, res: Response) => unknown;
}
const handlers = new WeakMap<Router, RouteHandler[]>();

/** The handlers `route` registered on `router`, in declaration order (route-table.ts dispatches to them). */
export function declaredHandlers(router: Router): readonly RouteHandler[] {
  return handlers.get(router) ?? [];
}

/** The routes declared on `router` with `route`, in declaration order. */
export function declaredRoutes(router: Router): readonly DeclaredRoute[] {
  return declarations.get(router) ?? [];
}

const noKey: IdempotencyKey = { present: false, record: async () => {} };

export function route<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  router: Router,
  spec: RouteSpec<P, Q, B>,
): void {
  const run = async (req: Request, res: Response, key: IdempotencyKey) => {
    if (spec.auth === 'admin') requireScope('admin');
    const params = (spec.params ? parseOrThrow(spec.params, req.params, 'path') : undefined) as Parsed<P>;
    const query = (spec.query ? parseOrThrow(spec.query, req.query, 'query') : undefined) as Parsed<Q>;
    const body = (spec.body ? parseOrThrow(spec.body, req.body, 'body') : undefined) as Parsed<B>;
    if (spec.deprecated) {
      res.setHeader('Deprecation', spec.deprecated.deprecation);
      res.setHeader('Sunset', spec.deprecated.sunset);
      res.setHeader('Link', `<${spec.deprecated.successor(req.params as Record<string, string>)}>; rel="successor-version"`);
    }
    await spec.handler({ params, query, body, key }, res, req);
  };
  const handler = spec.idempotent ? idempotent(spec.idempotent.store, spec.idempotent.ttlSeconds, run) : (req: Request, res: Response) => run(req, res, noKey);
  router[spec.method](spec.path, handler);
  const registered = handlers.get(router) ?? [];
  registered.push({ method: spec.method, path: spec.path, handler: handler as RouteHandler['handler'] });
  handlers.set(router, registered);
  const { handler: _handler, idempotent: write, ...declared } = spec;
  const list = declarations.get(router) ?? [];
  list.push({ ...(declared as Omit<DeclaredRoute, 'idempotent'>), idempotent: write !== undefined });
  declarations.set(router, list);
}
