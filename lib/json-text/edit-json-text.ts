// Edits JSON text the way a person would: only the values that change are touched, so a
// hand-formatted topology.json or proxy config keeps its layout, its key order and everything the
// editor (npm run extract, the proxy's admin API) has no business with. The caller says what the
// document was and what it must become (plain objects); the difference becomes text edits, one at
// a time, each placed with jsonc-parser's syntax tree and written in the indentation of its
// neighbours (an inline list stays inline).
import { findNodeAtLocation, parseTree, type JSONPath, type Node } from 'jsonc-parser';
import { isDeepStrictEqual } from 'node:util';

/** `text` (which parses to `before`) changed so that it parses to `after`, untouched elsewhere. */
export function editJsonText(text: string, before: unknown, after: unknown): string {
  let out = text;
  const unit = /^([ \t]+)\S/m.exec(text)?.[1] ?? '  ';
  const at = (path: JSONPath): Node => {
    const node = path.length ? findNodeAtLocation(parseTree(out)!, path) : parseTree(out);
    if (!node) throw new Error(`no JSON value at ${path.join('.')}`);
    return node;
  };
  const splice = (start: number, end: number, insert: string) => {
    out = out.slice(0, start) + insert + out.slice(end);
  };
  /** The value written as it would sit at `offset`: its inner lines indented like that line. */
  const render = (value: unknown, offset: number, inline: boolean): string => {
    const lineStart = out.lastIndexOf('\n', offset - 1) + 1;
    return stringify(value, /^[ \t]*/.exec(out.slice(lineStart))![0], unit, inline);
  };
  const replace = (path: JSONPath, value: unknown) => {
    const node = at(path);
    splice(node.offset, node.offset + node.length, render(value, node.offset, !out.slice(node.offset, node.offset + node.length).includes('\n')));
  };
  const remove = (path: JSONPath) => {
    const container = at(path.slice(0, -1));
    const children = container.children ?? [];
    const index = container.type === 'object' ? children.findIndex((p) => p.children?.[0]?.value === path.at(-1)) : Number(path.at(-1));
    const node = children[index]!;
    const end = node.offset + node.length;
    if (index > 0) splice(children[index - 1]!.offset + children[index - 1]!.length, end, '');
    else if (children.length > 1) splice(node.offset, children[1]!.offset, '');
    else splice(container.offset + 1, container.offset + container.length - 1, '');
  };
  const insert = (path: JSONPath, value: unknown) => {
    const container = at(path.slice(0, -1));
    const children = container.children ?? [];
    const key = path.at(-1)!;
    const index = container.type === 'object' ? children.length : Number(key);
    const open = container.offset + 1;
    if (!children.length) {
      const lineStart = out.lastIndexOf('\n', container.offset - 1) + 1;
      const indent = /^[ \t]*/.exec(out.slice(lineStart))![0];
      const entry = (container.type === 'object' ? `${JSON.stringify(key)}: ` : '') + stringify(value, indent + unit, unit, false);
      // A list of plain values reads best on one line, as the project's files write it.
      if (container.type === 'array' && isPlain(value)) splice(open, container.offset + container.length - 1, entry);
      else splice(open, container.offset + container.length - 1, `\n${indent}${unit}${entry}\n${indent}`);
      return;
    }
    const separator = out.slice(open, children[0]!.offset);
    const inline = !separator.includes('\n');
    const prefix = container.type === 'object' ? `${JSON.stringify(key)}: ` : '';
    if (index === 0) {
      const first = children[0]!;
      splice(first.offset, first.offset, `${prefix}${render(value, first.offset, inline)},${inline ? ' ' : separator}`);
    } else {
      const prev = children[index - 1]!;
      const end = prev.offset + prev.length;
      const sep = inline ? ' ' : separator;
      splice(end, end, `,${sep}${prefix}${render(value, prev.offset, inline)}`);
    }
  };
  const walk = (path: JSONPath, b: unknown, a: unknown): void => {
    if (isDeepStrictEqual(b, a)) return;
    if (isRecord(b) && isRecord(a)) {
      for (const key of Object.keys(b)) if (!(key in a)) remove([...path, key]);
      for (const [key, value] of Object.entries(a)) {
        if (key in b) walk([...path, key], b[key], value);
        else insert([...path, key], value);
      }
      return;
    }
    if (Array.isArray(b) && Array.isArray(a)) {
      if (b.length === a.length) {
        a.forEach((value, i) => walk([...path, i], b[i], value));
        return;
      }
      // Elements kept in order stay as written (those that changed but are the same thing — the
      // same route by name — are edited in place); the others are removed (from the end, so
      // indexes hold), then the new ones inserted at their final places, in ascending order.
      const kept = commonSubsequence(b, a);
      const keptBefore = new Set(kept.map(([i]) => i));
      const keptAfter = new Set(kept.map(([, j]) => j));
      for (let i = b.length - 1; i >= 0; i--) if (!keptBefore.has(i)) remove([...path, i]);
      kept.forEach(([i, j], k) => walk([...path, k], b[i], a[j]));
      a.forEach((value, i) => {
        if (!keptAfter.has(i)) insert([...path, i], value);
      });
      return;
    }
    replace(path, a);
  };
  walk([], before, after);
  return out;
}

/** A new file in the project's usual shape: two spaces, a final newline. */
export function newJsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * JSON the way the project's files are written: objects one key a line, lists of plain values on
 * one line (`"urls": ["http://…", "http://…"]`); `inline` keeps the whole value on one line.
 */
function stringify(value: unknown, indent: string, unit: string, inline: boolean): string {
  if (Array.isArray(value)) {
    if (!value.length) return '[]';
    if (inline || value.every(isPlain)) return `[${value.map((v) => stringify(v, indent, unit, true)).join(', ')}]`;
    return `[\n${value.map((v) => indent + unit + stringify(v, indent + unit, unit, false)).join(',\n')}\n${indent}]`;
  }
  if (isRecord(value)) {
    const entries = Object.entries(value);
    if (!entries.length) return '{}';
    if (inline) return `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${stringify(v, indent, unit, true)}`).join(', ')} }`;
    return `{\n${entries.map(([k, v]) => `${indent}${unit}${JSON.stringify(k)}: ${stringify(v, indent + unit, unit, false)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

function isPlain(v: unknown): boolean {
  return v === null || typeof v !== 'object';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The same element in two versions of a list: equal, or the same named thing (a route, a pool entry). */
function sameElement(x: unknown, y: unknown): boolean {
  if (isDeepStrictEqual(x, y)) return true;
  const key = (v: unknown) => (isRecord(v) ? (typeof v.name === 'string' ? `name:${v.name}` : typeof v.id === 'string' ? `id:${v.id}` : undefined) : undefined);
  return key(x) !== undefined && key(x) === key(y);
}

/** Longest common subsequence of two short arrays by sameElement: the index pairs kept, in order. */
function commonSubsequence(b: readonly unknown[], a: readonly unknown[]): [number, number][] {
  const lengths = Array.from({ length: b.length + 1 }, () => new Array<number>(a.length + 1).fill(0));
  for (let i = b.length - 1; i >= 0; i--) {
    for (let j = a.length - 1; j >= 0; j--) {
      lengths[i]![j] = sameElement(b[i], a[j]) ? lengths[i + 1]![j + 1]! + 1 : Math.max(lengths[i + 1]![j]!, lengths[i]![j + 1]!);
    }
  }
  const kept: [number, number][] = [];
  for (let i = 0, j = 0; i < b.length && j < a.length; ) {
    if (sameElement(b[i], a[j])) kept.push([i++, j++]);
    else if (lengths[i + 1]![j]! >= lengths[i]![j + 1]!) i++;
    else j++;
  }
  return kept;
}
