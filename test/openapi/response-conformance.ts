// Checks an answer against an OpenAPI 3.1 document the way a client generated from it would
// expect it: the path and method are documented, the status is one the operation lists, the
// content type is one it lists for that status, and the body is valid against that schema
// (ajv, JSON Schema 2020-12, formats checked). Answers nothing when it conforms, else why not.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';

type Document = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> };

// ajv-formats is CommonJS with a default export; under ESM the function may sit one level down.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => void;

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

export interface ResponseChecker {
  /** Undefined when the answer conforms; else what is wrong. */
  check(method: string, url: string, status: number, contentType: string | null, body: unknown): string | undefined;
}

export function responseChecker(document: unknown): ResponseChecker {
  const doc = document as Document;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema(doc as object, 'openapi');
  const templates = Object.keys(doc.paths)
    .map((t) => ({ t, params: (t.match(/\{/g) ?? []).length, re: new RegExp(`^${t.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`) }))
    .sort((a, b) => a.params - b.params);
  const compiled = new Map<string, ValidateFunction>();

  return {
    check(method, url, status, contentType, body) {
      const path = new URL(url, 'http://x').pathname;
      const template = templates.find((x) => x.re.test(path))?.t;
      if (!template) return `${method} ${path}: no such path in the document`;
      const op = doc.paths[template]![method.toLowerCase()];
      if (!op) return `${method} ${path}: ${template} documents no ${method}`;
      const key = op.responses[String(status)] ? String(status) : op.responses[`${String(status)[0]}XX`] ? `${String(status)[0]}XX` : op.responses.default ? 'default' : undefined;
      if (!key) return `${method} ${template} answered ${status}, which it does not document (it documents ${Object.keys(op.responses).join(', ')})`;
      const content = op.responses[key]!.content;
      if (!content) return body === undefined || body === '' ? undefined : `${method} ${template} ${status}: a body where none is documented`;
      const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
      if (!content[type]) return `${method} ${template} ${status}: content type ${type || '(none)'} is not documented (${Object.keys(content).join(', ')})`;
      const ref = `openapi#/${pointer('paths', template, method.toLowerCase(), 'responses', key, 'content', type, 'schema')}`;
      let validate = compiled.get(ref);
      if (!validate) compiled.set(ref, (validate = ajv.compile({ $ref: ref })));
      if (validate(body)) return undefined;
      return `${method} ${template} ${status}: body does not match the schema: ${ajv.errorsText(validate.errors)} — ${JSON.stringify(body).slice(0, 300)}`;
    },
  };
}
