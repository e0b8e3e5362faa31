// Kubernetes objects as YAML documents. Plain data only (objects, arrays, strings, numbers,
// booleans), and every string is written JSON-quoted, which YAML reads as the same string: no
// YAML library needed for output that is never read back by this code.

export function toYamlDocuments(objects: unknown[]): string {
  return objects.map((o) => `---\n${block(o, 0)}`).join('');
}

function block(value: unknown, indent: number): string {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return `${pad}[]\n`;
    return value
      .map((item) => {
        if (isComplex(item)) {
          const inner = block(item, indent + 2);
          return `${pad}- ${inner.slice(indent + 2)}`;
        }
        return `${pad}- ${scalar(item)}\n`;
      })
      .join('');
  }
  if (isObject(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return `${pad}{}\n`;
    return entries
      .map(([k, v]) => {
        const key = /^[A-Za-z_][A-Za-z0-9_./-]*$/.test(k) ? k : JSON.stringify(k);
        if (isComplex(v)) return `${pad}${key}:\n${block(v, indent + 2)}`;
        return `${pad}${key}: ${scalar(v)}\n`;
      })
      .join('');
  }
  return `${pad}${scalar(value)}\n`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isComplex = (v: unknown) => (Array.isArray(v) && v.length > 0) || (isObject(v) && Object.values(v).some((x) => x !== undefined));

function scalar(v: unknown): string {
  if (Array.isArray(v)) return '[]';
  if (isObject(v)) return '{}';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return 'null';
}
