// The OpenAPI 3.1 document of a deployable's internal port: the contracts it serves to other
// deployables, one `POST /internal/contracts/<module>/<operation>` per operation (and its `/batch`
// form for an idempotent one), generated from
// the contract definitions themselves (input and output schemas, idempotency, declared errors).
// What a remote binding sends and rebuilds is exactly this; see remote/contract-endpoint.ts.
import type { Contract } from '../../contracts/define-contract.ts';
import { ValidationFailed } from '../../errors/domain-error.ts';
import { ServiceForbidden, ServiceUnauthenticated } from '../../remote/service-credentials.ts';
import { INTERNAL_PREFIX } from '../../remote/contract-endpoint.ts';
import { END_USER_HEADER } from '../../remote/service-credentials.ts';
import { BATCH_LIMIT } from '../../remote/contract-batch.ts';
import { jsonSchema } from './json-schema.ts';
import { addCode, addErrors, problemResponse, problemSchema, type CodesByStatus } from './problems.ts';
import { OPENAPI_VERSION } from './public-document.ts';

/** What the contract endpoint itself refuses, before any handler runs: credential, input, body. */
function addEndpointRefusals(codes: CodesByStatus): void {
  addErrors(codes, [ServiceUnauthenticated, ServiceForbidden, ValidationFailed]);
  addCode(codes, 400, 'MalformedJson');
  addCode(codes, 413, 'BodyTooLarge');
}

function operation(contract: Contract, name: string): Record<string, unknown> {
  const spec = contract.operations[name]!;
  const codes: CodesByStatus = new Map();
  // The contract's declared errors (the kernel's included), and the endpoint's own refusals.
  addErrors(codes, contract.errors);
  addEndpointRefusals(codes);
  addCode(codes, 500, 'InternalError');
  const responses: Record<string, unknown> = {
    200: {
      description: 'The operation’s output (validated against its schema on both sides)',
      content: { 'application/json': { schema: { type: 'object', properties: { output: jsonSchema(spec.output, 'output') }, additionalProperties: false } } },
    },
  };
  for (const [status, set] of [...codes].sort(([a], [b]) => a - b)) responses[status] = problemResponse(status, set);
  return {
    operationId: `${contract.name}.${name}`,
    summary: spec.description ?? `${contract.name}.${name}`,
    tags: [contract.name],
    'x-idempotent': spec.idempotent,
    description: spec.idempotent ? 'Idempotent: a caller may retry it after a timeout.' : 'Not idempotent: a caller never retries it on its own.',
    security: [{ serviceToken: [] }],
    parameters: [
      {
        name: END_USER_HEADER,
        in: 'header',
        required: false,
        description: 'The end user the call acts for, as a short-lived token for this module; the provider checks the user’s scopes again',
        schema: { type: 'string' },
      },
    ],
    requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { input: jsonSchema(spec.input, 'input') }, required: ['input'] } } } },
    responses,
  };
}

/**
 * The batch form of an idempotent operation (remote/contract-batch.ts): many calls in one request,
 * each answered its output or the problem its own request would have got.
 */
function batchOperation(contract: Contract, name: string): Record<string, unknown> {
  const single = operation(contract, name);
  const spec = contract.operations[name]!;
  const problem = { $ref: '#/components/schemas/Problem' };
  const call = {
    type: 'object',
    properties: {
      input: jsonSchema(spec.input, 'input'),
      requestId: { type: 'string', description: 'The id this call’s own request would carry (X-Request-Id)' },
      correlationId: { type: 'string' },
      traceparent: { type: 'string', description: 'W3C trace context of the caller’s span for this call' },
    },
    required: ['input'],
  };
  const codes: CodesByStatus = new Map();
  addEndpointRefusals(codes);
  addCode(codes, 404, 'NotFound');
  const responses: Record<string, unknown> = {
    200: {
      description: 'One result per call, in order: its output, or its problem (any status and code the single operation answers)',
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: { results: { type: 'array', items: { oneOf: [{ type: 'object', properties: { output: jsonSchema(spec.output, 'output') }, additionalProperties: false }, { type: 'object', properties: { problem }, required: ['problem'], additionalProperties: false }] } } },
            required: ['results'],
          },
        },
      },
    },
  };
  for (const [status, set] of [...codes].sort(([a], [b]) => a - b)) responses[status] = problemResponse(status, set);
  return {
    ...single,
    operationId: `${contract.name}.${name}.batch`,
    summary: `${single.summary as string} (many calls at once)`,
    description: 'Several calls of this idempotent operation in one request, as a caller’s coalescer sends them: each call runs as it would alone and gets its own result. Retried as a whole.',
    requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { calls: { type: 'array', minItems: 1, maxItems: BATCH_LIMIT, items: call } }, required: ['calls'] } } } },
    responses,
  };
}

export function contractDocument(o: { deployable: string; contracts: readonly Contract[] }): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const contract of o.contracts) {
    for (const name of Object.keys(contract.operations)) {
      paths[`${INTERNAL_PREFIX}/${contract.name}/${name}`] = { post: operation(contract, name) };
      if (contract.operations[name]!.idempotent) paths[`${INTERNAL_PREFIX}/${contract.name}/${name}/batch`] = { post: batchOperation(contract, name) };
    }
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: `${o.deployable} internal contracts`,
      version: '1',
      description: 'Contracts this deployable serves to the others, on its internal port only. Each takes a service credential; errors are application/problem+json whose `code` the caller rebuilds into the same error class.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      securitySchemes: { serviceToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A service credential: HS256 with SERVICE_JWT_SECRET, iss = calling deployable, aud = this module, at most 60 s' } },
      schemas: { Problem: problemSchema },
      headers: { RequestId: { description: 'The request id', schema: { type: 'string' } } },
    },
  };
}
