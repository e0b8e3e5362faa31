// The OpenAPI 3.1 document of a deployable's internal port: the contracts it serves to other
// deployables, one `POST /internal/contracts/<module>/<operation>` per operation, generated from
// the contract definitions themselves (input and output schemas, idempotency, declared errors).
// What a remote binding sends and rebuilds is exactly this; see remote/contract-endpoint.ts.
import type { Contract } from '../../contracts/define-contract.ts';
import { ValidationFailed } from '../../errors/domain-error.ts';
import { ServiceForbidden, ServiceUnauthenticated } from '../../remote/service-credentials.ts';
import { INTERNAL_PREFIX } from '../../remote/contract-endpoint.ts';
import { END_USER_HEADER } from '../../remote/service-credentials.ts';
import { jsonSchema } from './json-schema.ts';
import { addCode, addErrors, problemResponse, problemSchema, type CodesByStatus } from './problems.ts';
import { OPENAPI_VERSION } from './public-document.ts';

function operation(contract: Contract, name: string): Record<string, unknown> {
  const spec = contract.operations[name]!;
  const codes: CodesByStatus = new Map();
  // The contract's declared errors (the kernel's included), and the endpoint's own refusals.
  addErrors(codes, [...contract.errors, ServiceUnauthenticated, ServiceForbidden, ValidationFailed]);
  addCode(codes, 400, 'MalformedJson');
  addCode(codes, 413, 'BodyTooLarge');
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

export function contractDocument(o: { deployable: string; contracts: readonly Contract[] }): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const contract of o.contracts) {
    for (const name of Object.keys(contract.operations)) paths[`${INTERNAL_PREFIX}/${contract.name}/${name}`] = { post: operation(contract, name) };
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
