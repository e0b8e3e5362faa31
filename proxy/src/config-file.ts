// Reading and writing the config file. Every error names where the problem is: line and column for
// JSON syntax, the field path for schema violations, so a bad edit is fixed in one look.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { jsonErrorOffset } from './json-error-position.ts';
import { editJsonText, newJsonText } from '../../lib/json-text/edit-json-text.ts';
import { proxyConfigSchema, type ProxyConfig, type ProxyConfigInput } from './config-schema.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
  /** What is wrong, without naming the file (safe to show a remote caller). */
  readonly reason: string;
  constructor(source: string, reason: string) {
    super(`${source}: ${reason}`);
    this.reason = reason;
  }
}

function lineColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return { line, column };
}

/** Parses JSON text without applying the schema (what scripts edit and write back). */
export function parseConfigJson(text: string, source = 'config'): ProxyConfigInput {
  try {
    return JSON.parse(text) as ProxyConfigInput;
  } catch (err) {
    const message = (err as Error).message;
    const offset = jsonErrorOffset(text);
    const { line, column } = lineColumn(text, Math.max(0, offset));
    const reason = message.replace(/ in JSON at position.*$/, '').replace(/, ".*$/s, '');
    throw new ConfigError(source, `invalid JSON at line ${line}, column ${column}: ${reason}`);
  }
}

/** Applies the schema; throws a ConfigError listing every bad field by its path. */
export function validateConfig(raw: unknown, source = 'config'): ProxyConfig {
  const result = proxyConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  - ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  throw new ConfigError(source, `invalid config\n${lines.join('\n')}`);
}

export function parseConfigText(text: string, source = 'config'): ProxyConfig {
  return validateConfig(parseConfigJson(text, source), source);
}

/** Reads and validates the file; throws ConfigError naming the line/column or field. */
export function readConfig(path: string): ProxyConfig {
  return parseConfigText(readConfigText(path), path);
}

/** The file as written (defaults not applied), for editing and writing back with writeConfig. */
export function readRawConfig(path: string): ProxyConfigInput {
  return parseConfigJson(readConfigText(path), path);
}

function readConfigText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * Validates, then replaces the file atomically (write a sibling, rename over): a running proxy that
 * reloads at the wrong moment sees the old file or the new one, never half of it. An existing file
 * keeps its formatting: only what changed is edited (see json-text-edit.ts).
 */
export function writeConfig(path: string, raw: ProxyConfigInput): void {
  validateConfig(raw, path);
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
    JSON.parse(current);
  } catch {
    current = undefined; // no file yet, or not JSON: written afresh
  }
  const text = current === undefined ? newJsonText(raw) : editJsonText(current, JSON.parse(current), raw);
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
