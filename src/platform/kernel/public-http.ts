// The public listener: what a client (or the proxy in front) may reach. REST under /api behind
// the bearer-token check, the probes, and nothing internal: contract endpoints, /metrics and admin
// routes are on the internal listener only (internal-http.ts).
import express, { type Express, type Router } from 'express';
import type { Config } from '../config/env.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { TokenVerifier } from '../auth/jwt.ts';
import { authenticate } from '../auth/caller.ts';
import { edge as edgeMiddleware } from '../http/edge.ts';
import { weakEtag } from '../http/weak-etag.ts';
import { installJsonAnswer } from '../http/json-answer.ts';
import { jsonRequestBody } from '../http/require-json.ts';
import { notFoundHandler, problemHandler } from '../http/problem.ts';
import { healthRoutes, type HealthState, type ReadinessCheck } from '../http/health.ts';
import { declaredRoutes } from '../http/route.ts';
import { routeTable } from '../http/route-table.ts';
import { publicDocument } from '../http/openapi/public-document.ts';

export interface Edge {
  /** `monolith` or `<module>-service`: names the deployable's OpenAPI documents. */
  deployable: string;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  health: HealthState;
  readiness: () => ReadinessCheck[];
  verifier: TokenVerifier;
}

/** What every listener does first (edge.ts: draining marks, request ids, spans, well-formed paths, metrics and logs), then the probes. */
export function baseApp(edge: Edge): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback, linklocal, uniquelocal');
  app.set('query parser', 'simple');
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  app.set('etag', weakEtag);
  installJsonAnswer(app);
  app.use(edgeMiddleware({ logger: edge.logger, figures: edge.metrics.http, health: edge.health }));
  // The probes' router is tried only for their paths, not matched against every request.
  const probes = healthRoutes(edge.health, edge.readiness);
  app.use((req, res, next) => (req.path.startsWith('/health/') ? probes(req, res, next) : next()));
  return app;
}

export function publicHttp(edge: Edge, moduleRoutes: readonly Router[]): Express {
  const { config } = edge;
  const app = baseApp(edge);
  // Generated once from the routes' own declarations: what is served is what is documented.
  const document = JSON.stringify(publicDocument({ deployable: edge.deployable, routes: moduleRoutes.flatMap((r) => declaredRoutes(r)) }));
  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(document);
  });
  // The bearer-token check, then the body, for everything under /api, in one layer: mounted at
  // '/api', express matched the prefix and rewrote and restored req.url around each of the two.
  const auth = authenticate(edge.verifier);
  const body = jsonRequestBody({ limit: config.BODY_LIMIT, maxDepth: config.JSON_MAX_DEPTH });
  app.use((req, res, next) => {
    const path = req.path;
    if (path !== '/api' && !path.startsWith('/api/')) return next();
    // Returned: express turns the check's rejection (401/403) into next(err), as for any layer.
    return auth(req, res, (err?: unknown) => (err === undefined ? body(req, res, next) : next(err)));
  });
  app.use(routeTable(moduleRoutes));
  // Still mounted: what the table does not take (OPTIONS, unknown paths and methods) gets express's answers.
  for (const routes of moduleRoutes) app.use(routes);
  app.use(notFoundHandler);
  app.use(problemHandler(edge.logger));
  return app;
}
