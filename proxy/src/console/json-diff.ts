// Where two answers to the same request differ, field by field, so the console can highlight the
// fields of a shadow pair that made it a mismatch. Paths are dotted (`items.0.price`); ignored
// fields (the route's shadow.ignoreFields) are left out, as the comparison leaves them out.
import { stripIgnored } from '../shadow-compare.ts';

/** Largest body shown per side: enough to read a JSON answer, not enough to flood the page. */
export const BODY_SHOWN = 8 * 1024;

export interface BodyDiff {
  /** Differing dotted paths; `''` means the whole body (not JSON, or a different type at the top). */
  paths: string[];
  json: boolean;
}

export function differingPaths(primaryBody: string, shadowBody: string, ignore: readonly string[]): BodyDiff {
  let a: unknown;
  let b: unknown;
  try {
    a = primaryBody ? JSON.parse(primaryBody) : null;
    b = shadowBody ? JSON.parse(shadowBody) : null;
  } catch {
    return { paths: primaryBody === shadowBody ? [] : [''], json: false };
  }
  const out: string[] = [];
  walk(stripIgnored(a, ignore), stripIgnored(b, ignore), [], out);
  return { paths: out.slice(0, 200), json: true };
}

function walk(a: unknown, b: unknown, path: string[], out: string[]): void {
  if (isObject(a) && isObject(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[key], b[key], [...path, key], out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], [...path, String(i)], out);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path.join('.'));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
