// Writes a new value into existing JSON text while keeping the text's own formatting: only what
// changed is touched, in place, and what is added is laid out with the file's indentation. A
// config file that a person keeps tidy (inline arrays, four spaces, keys in their order) stays
// as they wrote it when a script or the admin API changes a weight or a route.
import { applyEdits, format, modify, type FormattingOptions } from 'jsonc-parser';

export function editJsonText(text: string, next: unknown): string {
  const before: unknown = JSON.parse(text);
  const options = formattingOf(text);
  let out = text;
  const edit = (path: (string | number)[], value: unknown, isArrayInsertion = false) => {
    const edits = modify(out, path, value, { isArrayInsertion }).sort((a, b) => b.offset - a.offset);
    for (const e of edits) {
      out = applyEdits(out, [e]);
      // What was inserted is laid out like the rest of the file; nothing around it is touched.
      if (value !== undefined && e.content.length) out = applyEdits(out, format(out, { offset: e.offset, length: e.content.length }, options));
    }
  };
  diff(before, next, [], edit);
  return out;
}

type Edit = (path: (string | number)[], value: unknown, isArrayInsertion?: boolean) => void;

function diff(a: unknown, b: unknown, path: (string | number)[], edit: Edit): void {
  if (same(a, b)) return;
  if (isObject(a) && isObject(b)) {
    for (const k of Object.keys(a)) if (b[k] === undefined) edit([...path, k], undefined);
    for (const k of Object.keys(b)) {
      if (b[k] === undefined) continue;
      if (a[k] === undefined) edit([...path, k], b[k]);
      else diff(a[k], b[k], [...path, k], edit);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length === b.length && a.every((x, i) => identity(x) === identity(b[i]))) {
      b.forEach((x, i) => diff(a[i], x, [...path, i], edit));
      return;
    }
    // Elements removed, changed and/or appended (a filter, an edit, new ones at the end) are edited
    // in place, matched by identity (a route's name, else its content). Anything else (a new
    // order) rewrites the array.
    const kept: number[] = [];
    const removed: number[] = [];
    let j = 0;
    a.forEach((x, i) => (j < b.length && identity(x) === identity(b[j]) ? (kept.push(i), j++) : removed.push(i)));
    const appended = b.slice(j);
    if (appended.every((x) => !a.some((y) => identity(x) === identity(y)))) {
      for (const i of [...removed].reverse()) edit([...path, i], undefined);
      kept.forEach((i, k) => diff(a[i], b[k], [...path, k], edit));
      appended.forEach((x, k) => edit([...path, j + k], x, true));
      return;
    }
  }
  edit(path, b);
}

/** What makes two array elements "the same one": a route's name, else the whole value. */
const identity = (v: unknown): string => (isObject(v) && typeof v.name === 'string' ? `name:${v.name}` : JSON.stringify(v));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The file's indentation (the first indented line's) and line ending. */
function formattingOf(text: string): FormattingOptions {
  const indent = /\n([ \t]+)\S/.exec(text)?.[1] ?? '  ';
  return { insertSpaces: !indent.startsWith('\t'), tabSize: indent.startsWith('\t') ? 1 : indent.length, eol: text.includes('\r\n') ? '\r\n' : '\n' };
}
