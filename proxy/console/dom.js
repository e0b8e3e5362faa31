// Building the page with the DOM, never with HTML strings: everything shown may come from an
// upstream's answer (shadow bodies, dead-letter reasons), so it only ever becomes text.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** h('td', { class: 'figure' }, 'text', child...) — attributes with false/null/undefined are left out. */
export function h(tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** The same for SVG elements. */
export function svg(tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

function fill(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** A table with a caption, header cells and rows (each row an array of cells or a <tr>). */
export function table(caption, headers, rows, empty = 'Nothing yet.') {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, headers.map((text) => h('th', { scope: 'col' }, text)))),
      h('tbody', {}, rows.map((row) => (row instanceof Node ? row : h('tr', {}, row.map((cell) => (cell instanceof Node && (cell.tagName === 'TD' || cell.tagName === 'TH') ? cell : h('td', {}, cell))))))),
    ),
  );
}

/** A state as a word with a symbol, a colour and a border style (tone: good, warn, bad, info, plain). */
export function badge(word, tone, symbol) {
  return h('span', { class: `badge ${tone}` }, h('span', { class: 'symbol', 'aria-hidden': 'true' }, symbol), word);
}

export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return h('time', { datetime: d.toISOString() }, d.toLocaleTimeString([], { hour12: false }));
}

export const pct = (n) => (n === null || n === undefined ? '—' : `${(n * 100).toFixed(1)} %`);
export const ms = (n) => (n === null || n === undefined ? '—' : `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`);
export const rate = (n) => (n === null || n === undefined ? '—' : `${n < 10 ? n.toFixed(2) : Math.round(n)}/s`);
/** Ids for elements that must keep focus and drafts across refreshes. */
export const idFor = (...parts) => parts.map((p) => String(p).replace(/[^A-Za-z0-9_-]/g, '_')).join('--');
