// The problem+json answers a document lists: one schema (RFC 9457 plus this project's `code` and
// `requestId`), and per status the codes a client can switch on. The codes every route may answer
// are the edge's (kernel errors, body and path refusals); a route adds its own declared errors.
import type { AnyErrorClass } from '../../errors/domain-error.ts';
import type { JsonSchema } from './json-schema.ts';

export const PROBLEM_TYPE = 'application/problem+json';

export const problemSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details; `code` is stable and meant for programs, `detail` for people',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', pattern: '^[A-Z][A-Za-z0-9]*$' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errors: { type: 'array', description: 'Each invalid field', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } }, required: ['path', 'message'] } },
    details: { description: 'What the error says beyond its code (the skus that were missing, ...)' },
  },
  required: ['type', 'title', 'status', 'code'],
};

export const statusTitles: Record<number, string> = {
  400: 'The request is not valid',
  401: 'No valid credential',
  403: 'The credential does not allow this',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'The body is too large',
  415: 'The body is not JSON',
  422: 'Understood, but refused',
  429: 'Too many requests',
  500: 'A fault on our side',
  502: 'The upstream could not be reached',
  503: 'A dependency is unavailable; retry later',
  504: 'The upstream did not answer in time',
};

/** Codes by status, merged. */
export type CodesByStatus = Map<number, Set<string>>;

export function addCode(codes: CodesByStatus, status: number, code: string): void {
  (codes.get(status) ?? codes.set(status, new Set()).get(status)!).add(code);
}

export function addErrors(codes: CodesByStatus, errors: readonly AnyErrorClass[]): void {
  for (const e of errors) addCode(codes, e.status, e.code);
}

/** The response object of one problem status: the shared schema with this status's codes. */
export function problemResponse(status: number, codes: Iterable<string>, extraHeaders: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    description: statusTitles[status] ?? 'Error',
    headers: { 'X-Request-Id': { $ref: '#/components/headers/RequestId' }, ...extraHeaders },
    content: {
      [PROBLEM_TYPE]: {
        schema: { allOf: [{ $ref: '#/components/schemas/Problem' }, { properties: { status: { const: status }, code: { enum: [...new Set(codes)].sort() } } }] },
      },
    },
  };
}
