// The public listener: what a client (or the proxy in front) may reach. REST under /api behind
// the bearer-token check, the probes, and nothing internal: contract endpoints, /metrics and admin
// routes are on the internal listener only (internal-http.ts).
import express, { type Express, type Router } from 'express';
import type { Config } from '../config/env.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { TokenVerifier } from '../auth/jwt.ts';
import { authenticate } from '../auth/caller.ts';
import { requestContext } from '../http/request-context.ts';
import { observe } from '../http/observe.ts';
import { requireJsonBody } from '../http/require-json.ts';
import { jsonBody } from '../http/json-body.ts';
import { refuseMalformedPaths } from '../http/path-guard.ts';
import { notFoundHandler, problemHandler } from '../http/problem.ts';
import { healthRoutes, type HealthState, type ReadinessCheck } from '../http/health.ts';
import { declaredRoutes } from '../http/route.ts';
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

/** What every listener does first: draining marks, request ids, well-formed paths, metrics and logs, probes. */
export function baseApp(edge: Edge): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback, linklocal, uniquelocal');
  app.set('query parser', 'simple');
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  // While draining, every answer closes its connection so keep-alive clients move elsewhere.
  app.use((_req, res, next) => {
    if (edge.health.draining) res.setHeader('Connection', 'close');
    next();
  });
  app.use(requestContext);
  app.use(refuseMalformedPaths);
  app.use(observe(edge.logger, edge.metrics));
  app.use(healthRoutes(edge.health, edge.readiness));
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
  app.use('/api', authenticate(edge.verifier), requireJsonBody, jsonBody({ limit: config.BODY_LIMIT, maxDepth: config.JSON_MAX_DEPTH }));
  for (const routes of moduleRoutes) app.use(routes);
  app.use(notFoundHandler);
  app.use(problemHandler(edge.logger));
  return app;
}
