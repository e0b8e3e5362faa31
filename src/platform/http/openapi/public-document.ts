// The OpenAPI 3.1 document of a deployable's public port, generated from the routes its modules
// declared (route.ts): the same zod schemas that validate each request describe it here. Beside
// each route's own answers it lists what the edge may answer any request (a missing token, a
// malformed body, an overload), the bearer-JWT security scheme, the Idempotency-Key of writes and
// the Deprecation/Sunset headers of a version on its way out.
import { Conflict, ContractViolation, Forbidden, ServiceUnavailable, Unauthenticated, ValidationFailed } from '../../errors/domain-error.ts';
import { IdempotencyKeyContended, IdempotencyKeyReused } from '../idempotency.ts';
import type { DeclaredRoute } from '../route.ts';
import { jsonSchema, objectProperties, type JsonSchema } from './json-schema.ts';
import { addCode, addErrors, problemResponse, problemSchema, type CodesByStatus } from './problems.ts';

export const OPENAPI_VERSION = '3.1.1';

/** `/api/v1/products/:sku` → `/api/v1/products/{sku}`. */
export const openApiPath = (expressPath: string) => expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

const requestIdHeader = { description: 'The request id (the caller’s X-Request-Id if it sent a sane one); quote it when reporting a problem', schema: { type: 'string' } };

const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes the write safe to repeat: a retry with the same key (same caller, same route) answers the first response again, with Idempotent-Replayed: true, and has no second effect. The same key with another request is refused (422 IdempotencyKeyReused). A request that ran while another with the same key did, and found that one’s answer expired, is refused (409 IdempotencyKeyContended): send it again with the same key. Keys are kept for IDEMPOTENCY_TTL_SECONDS.',
  schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,200}$' },
};

function edgeCodes(r: DeclaredRoute): CodesByStatus {
  const codes: CodesByStatus = new Map();
  addErrors(codes, [Unauthenticated, ServiceUnavailable, ContractViolation]);
  addCode(codes, 400, 'MalformedPath');
  addCode(codes, 400, 'InvalidValue');
  addCode(codes, 500, 'InternalError');
  addCode(codes, 503, 'Overloaded');
  if (r.params || r.query || r.body || r.idempotent) addErrors(codes, [ValidationFailed]);
  if (r.body) {
    for (const code of ['MalformedJson', 'BodyTooDeep', 'ControlCharacter', 'RequestAborted', 'BadRequest']) addCode(codes, 400, code);
    addCode(codes, 413, 'BodyTooLarge');
    addCode(codes, 415, 'UnsupportedMediaType');
    addCode(codes, 415, 'UnsupportedEncoding');
  }
  if (r.auth === 'admin') addErrors(codes, [Forbidden]);
  if (r.idempotent) addErrors(codes, [IdempotencyKeyReused, IdempotencyKeyContended, Conflict]);
  addErrors(codes, r.errors ?? []);
  return codes;
}

function operation(r: DeclaredRoute): Record<string, unknown> {
  const parameters: Record<string, unknown>[] = [];
  if (r.params) for (const p of objectProperties(r.params, 'input')) parameters.push({ name: p.name, in: 'path', required: true, schema: p.schema });
  if (r.query) {
    for (const p of objectProperties(r.query, 'input')) {
      const { description, ...schema } = p.schema as JsonSchema & { description?: string };
      parameters.push({ name: p.name, in: 'query', required: p.required, ...(description ? { description } : {}), schema });
    }
  }
  if (r.idempotent) parameters.push(idempotencyKey);

  const responses: Record<string, unknown> = {};
  for (const [status, spec] of Object.entries(r.responses)) {
    const headers: Record<string, unknown> = { 'X-Request-Id': { $ref: '#/components/headers/RequestId' } };
    for (const [name, h] of Object.entries(spec.headers ?? {})) headers[name] = { description: h.description, schema: h.schema ? jsonSchema(h.schema, 'output') : { type: 'string' } };
    if (r.idempotent) headers['Idempotent-Replayed'] = { description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key', schema: { type: 'string', const: 'true' } };
    if (r.deprecated) {
      headers.Deprecation = { description: `RFC 9745: deprecated since this moment (${r.deprecated.deprecation})`, schema: { type: 'string' } };
      headers.Sunset = { description: `RFC 8594: served until ${r.deprecated.sunset}`, schema: { type: 'string' } };
      headers.Link = { description: 'The successor version of this resource (rel="successor-version")', schema: { type: 'string' } };
    }
    responses[status] = {
      description: spec.description,
      headers,
      ...(spec.body ? { content: { 'application/json': { schema: jsonSchema(spec.body, 'output') } } } : {}),
    };
  }
  for (const [status, codes] of [...edgeCodes(r)].sort(([a], [b]) => a - b)) {
    if (responses[status]) continue;
    responses[status] = problemResponse(status, codes, status === 503 ? { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'string' } } } : {});
  }

  return {
    operationId: `${r.method}${openApiPath(r.path).replace(/[{}]/g, '').replace(/(^|[/_-])([a-z0-9])/g, (_m, _s, c: string) => c.toUpperCase())}`,
    summary: r.summary,
    ...(r.description ? { description: r.description } : {}),
    ...(r.auth === 'admin' ? { 'x-required-scope': 'admin' } : {}),
    ...(r.deprecated ? { deprecated: true } : {}),
    tags: [r.path.split('/')[3] ?? 'api'],
    security: [{ bearer: [] }],
    ...(parameters.length ? { parameters } : {}),
    ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } } } : {}),
    responses,
  };
}

const probe = (summary: string) => ({
  get: {
    operationId: `probe${summary.split(' ')[0]}`,
    summary,
    tags: ['probes'],
    security: [],
    responses: {
      200: { description: 'Yes', content: { 'application/json': { schema: { type: 'object' } } } },
      503: { description: 'Not (yet, or any more)', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } }, 'application/json': { schema: { type: 'object' } } } },
    },
  },
});

export function publicDocument(o: { deployable: string; routes: readonly DeclaredRoute[] }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of o.routes) (paths[openApiPath(r.path)] ??= {})[r.method] = operation(r);
  paths['/health/live'] = probe('Live: the process answers');
  paths['/health/ready'] = probe('Ready: stores, bus and migrations are fit to serve');
  paths['/health/started'] = probe('Started: start-up has finished');
  paths['/openapi.json'] = {
    get: { operationId: 'openApiDocument', summary: 'This document', tags: ['meta'], security: [], responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } },
  };
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: `${o.deployable} public API`,
      version: '1',
      description:
        'REST under /api/v1 (and /api/v2 where a representation changed; v1 routes that have a successor are deprecated with Deprecation and Sunset headers). Every /api route takes a bearer JWT. Errors are application/problem+json with a stable `code`. Lists are paged with `limit` and, where the order is stable, a cursor: pass the previous page’s `nextCursor` as `after`.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An end-user token (HS256 with JWT_SECRET, or verified against JWT_JWKS_URL); the `admin` scope grants every scope' } },
      schemas: { Problem: problemSchema },
      headers: { RequestId: requestIdHeader },
    },
  };
}
