import type { z } from 'zod';
import { ValidationFailed, type FieldIssue } from './domain-error.ts';

export function fieldIssues(error: z.ZodError, prefix?: string): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return { path: [prefix, path].filter(Boolean).join('.') || (prefix ?? ''), message: issue.message };
  });
}

/** Parses `value` with `schema` or throws ValidationFailed naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = fieldIssues(result.error, where);
  throw new ValidationFailed(`Invalid ${where ?? 'input'}: ${issues.map((i) => `${i.path || '(root)'} ${i.message}`).join('; ')}`, { issues });
}
