// The router every route of a deployable is mounted on: modules' REST adapters, the probes and the
// internal endpoints. Routing is case-sensitive and strict: `/api/v1/orders` is the one spelling,
// and `/API/V1/ORDERS`, `/api/v1/orders/` or `/api/v1//orders` are 404s rather than other names
// for the same resource, so nothing keyed by the path (idempotency scopes, caches, proxy routes,
// metrics) can be walked around by respelling it.
import { Router } from 'express';

export function strictRouter(): Router {
  return Router({ caseSensitive: true, strict: true });
}
