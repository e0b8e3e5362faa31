// A zod schema as the JSON Schema the compatibility check compares: what the schema accepts when
// it parses (zod's "input" view, which is how every reader sees a payload), with annotations that
// do not change which values pass (descriptions, titles, examples) left out and keys in a fixed
// order, so the committed snapshot changes only when a contract does.
import { z } from 'zod';

export type SchemaObject = { [keyword: string]: unknown };
export type JsonSchema = boolean | SchemaObject;

export function isSchemaObject(s: unknown): s is SchemaObject {
  return typeof s === 'object' && s !== null && !Array.isArray(s);
}

const ANNOTATIONS = new Set(['$schema', '$id', 'id', 'title', 'description', 'examples', 'deprecated', 'readOnly', 'writeOnly', '$comment']);
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
const SCHEMA_LISTS = new Set(['prefixItems', 'anyOf', 'oneOf', 'allOf']);
const SCHEMAS = new Set(['items', 'additionalProperties', 'propertyNames', 'not', 'if', 'then', 'else', 'contains', 'unevaluatedProperties', 'unevaluatedItems']);

/**
 * The JSON Schema of a zod schema as readers parse it. A refinement written as code (`.refine`)
 * has no JSON Schema form and is invisible here; transforms show the type they accept.
 */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return normaliseSchema(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', cycles: 'ref', reused: 'inline' }) as JsonSchema);
}

export function normaliseSchema(s: JsonSchema): JsonSchema {
  if (!isSchemaObject(s)) return s;
  const out: SchemaObject = {};
  for (const key of Object.keys(s).sort()) {
    if (ANNOTATIONS.has(key)) continue;
    const v = s[key];
    if (SCHEMA_MAPS.has(key) && isSchemaObject(v)) out[key] = Object.fromEntries(Object.keys(v).sort().map((k) => [k, normaliseSchema(v[k] as JsonSchema)]));
    else if ((SCHEMA_LISTS.has(key) || key === 'items') && Array.isArray(v)) out[key] = v.map((x) => normaliseSchema(x as JsonSchema));
    else if (SCHEMAS.has(key) && (isSchemaObject(v) || typeof v === 'boolean')) out[key] = normaliseSchema(v);
    else if ((key === 'required' || key === 'type') && Array.isArray(v)) out[key] = [...v].sort();
    else if (key === 'enum' && Array.isArray(v)) out[key] = [...v].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    else out[key] = v;
  }
  return out;
}
