// One answer of a shadow pair, pretty-printed, with the fields that differ from the other answer
// marked: highlighted, signed with ≠ in the margin (seen without colour) and named for screen
// readers. Paths are dotted (`items.0.price`), as the summary gives them.
import { h } from './dom.js';

export function bodyView(body, differing) {
  const paths = new Set(differing.paths);
  let value;
  try {
    value = differing.json && body ? JSON.parse(body) : undefined;
  } catch {
    value = undefined;
  }
  if (value === undefined) {
    // Not JSON (or cut short): the body as it is, marked whole if it differs.
    const text = body || '(empty)';
    return h('pre', { class: 'body' }, paths.size ? mark(text, 'the body') : text);
  }
  const lines = [];
  print(value, [], '', '', true, lines);
  return h(
    'pre',
    { class: 'body' },
    lines.map(({ text, path }, i) => [i ? '\n' : '', paths.has(path.join('.')) ? mark(text, path.join('.') || 'the body') : `  ${text}`]),
  );
}

function mark(text, where) {
  return h('mark', {}, h('span', { class: 'diff-sign', 'aria-hidden': 'true' }, '≠ '), h('span', { class: 'visually-hidden' }, `differs (${where}): `), text);
}

function print(value, path, indent, key, last, out) {
  const comma = last ? '' : ',';
  const label = key === '' ? '' : `${JSON.stringify(key)}: `;
  if (Array.isArray(value) || (value && typeof value === 'object')) {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v, '']) : Object.entries(value).map(([k, v]) => [k, v, k]);
    const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
    if (!entries.length) return out.push({ text: `${indent}${label}${open}${close}${comma}`, path });
    out.push({ text: `${indent}${label}${open}`, path });
    entries.forEach(([segment, v, k], i) => print(v, [...path, segment], `${indent}  `, Array.isArray(value) ? '' : k, i === entries.length - 1, out));
    out.push({ text: `${indent}${close}${comma}`, path: [...path, '\u0000close'] });
    return;
  }
  out.push({ text: `${indent}${label}${JSON.stringify(value)}${comma}`, path });
}
