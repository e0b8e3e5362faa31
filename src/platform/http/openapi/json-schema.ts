// zod → JSON Schema 2020-12, the dialect OpenAPI 3.1 uses, with zod 4's own converter. Requests
// are described as clients send them (`io: 'input'`: defaults optional, coercions as the wire
// type), answers as the server produces them. Checks no schema can say (a refine) are left out
// rather than failing the document: the route still enforces them.
import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

/** Each property of an object schema, for parameters (path, query), with whether it is required. */
export function objectProperties(schema: z.ZodType, io: 'input' | 'output'): { name: string; required: boolean; schema: JsonSchema }[] {
  const s = jsonSchema(schema, io) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, p]) => ({ name, required: (s.required ?? []).includes(name), schema: p }));
}
