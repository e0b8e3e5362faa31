// The internal listener (INTERNAL_PORT): contract endpoints other deployables call with service
// credentials, /metrics for Prometheus, admin routes behind an admin-scoped token, and the probes.
// A public ingress or the proxy routes the public port only, so none of this is reachable from
// outside the deployment however a path is spelled.
import type { Express, Router } from 'express';
import type { EventBus } from '../bus/event-bus.ts';
import { authenticate } from '../auth/caller.ts';
import { requireJsonBody } from '../http/require-json.ts';
import { jsonBody } from '../http/json-body.ts';
import { adminRoutes } from '../http/admin-routes.ts';
import { notFoundHandler, problemHandler } from '../http/problem.ts';
import { baseApp, type Edge } from './public-http.ts';
import type { Contract } from '../contracts/define-contract.ts';
import { contractDocument } from '../http/openapi/contract-document.ts';

export function internalHttp(edge: Edge, o: { contracts: Router; served: readonly Contract[]; bus: EventBus }): Express {
  const { config, metrics } = edge;
  const app = baseApp(edge);
  const document = JSON.stringify(contractDocument({ deployable: edge.deployable, contracts: o.served }));
  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(document);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.use(o.contracts);
  app.use('/admin', authenticate(edge.verifier), requireJsonBody, jsonBody({ limit: config.BODY_LIMIT, maxDepth: config.JSON_MAX_DEPTH }), adminRoutes(o.bus));
  app.use(notFoundHandler);
  app.use(problemHandler(edge.logger));
  return app;
}
