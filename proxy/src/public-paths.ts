// What the public port does with a path before any route is matched: the proxy's own probes are
// answered here whatever their spelling, the internals of every deployable (contract endpoints,
// metrics, admin routes, the proxy's admin API) are refused whatever their spelling, and a path
// whose percent-encoding is broken is refused as the client's error. Everything else is forwarded
// as it came: the proxy does not rewrite paths, it only refuses the ones that could reach an
// internal endpoint on some upstream's reading of them.
//
// "Some upstream's reading" is the point: servers differ in whether they decode %2F before
// routing, fold case, resolve `..`, ignore `;params`, treat `\` as `/`, or drop trailing dots. So
// the first segment is checked under each of those readings, decoding repeatedly (double
// encoding), and the path is refused if any reading names an internal endpoint.

/** First path segments that belong to a deployable's internal listener, never to the public port. */
const INTERNAL_SEGMENTS: ReadonlySet<string> = new Set(['internal', 'metrics', 'admin', '_proxy']);
const MAX_DECODE_ROUNDS = 4;
// Anything that could make two readings of a path differ; a path without it is read one way only.
const NEEDS_CARE = /[%\\;]|\/\/|\/\./;

export type PublicPath =
  | { kind: 'forward' }
  | { kind: 'internal' }
  | { kind: 'malformed'; reason: string }
  /** `probe` is the name after /health/ (lower case), or undefined when there is none or more. */
  | { kind: 'health'; probe: string | undefined };

const FORWARD: PublicPath = { kind: 'forward' };
const INTERNAL: PublicPath = { kind: 'internal' };

export function classifyPublicPath(url: string): PublicPath {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (!NEEDS_CARE.test(path)) {
    const end = path.indexOf('/', 1);
    const first = (end < 0 ? path.slice(1) : path.slice(1, end)).toLowerCase();
    if (INTERNAL_SEGMENTS.has(trimmed(first))) return INTERNAL;
    if (first === 'health') return health(path.toLowerCase().split('/').filter(Boolean));
    return FORWARD;
  }
  const readings = [path];
  let decoded = path;
  for (let round = 0; round < MAX_DECODE_ROUNDS && decoded.includes('%'); round++) {
    let next: string;
    try {
      next = decodeURIComponent(decoded);
    } catch {
      // The path as sent must decode; what it decodes to may hold a literal '%' (say "%25ZZ" → "%ZZ").
      if (round === 0) return { kind: 'malformed', reason: 'the path has malformed percent-encoding' };
      break;
    }
    if (next === decoded) break;
    decoded = next;
    readings.push(decoded);
  }
  let healthSegments: string[] | undefined;
  for (const reading of readings) {
    const lower = reading.toLowerCase().replace(/\\/g, '/');
    const raw = lower.split('/').filter(Boolean);
    const resolved = resolveDots(raw);
    for (const segments of [raw, resolved]) {
      const first = segments[0];
      if (first !== undefined && INTERNAL_SEGMENTS.has(trimmed(first))) return INTERNAL;
    }
    if (reading === decoded && resolved[0] === 'health') healthSegments = resolved;
  }
  return healthSegments ? health(healthSegments) : FORWARD;
}

/** A segment as lenient servers read it: without `;parameters`, trailing dots, spaces or NULs. */
function trimmed(segment: string): string {
  const semi = segment.indexOf(';');
  return (semi < 0 ? segment : segment.slice(0, semi)).replace(/[.\s\0]+$/, '');
}

function resolveDots(segments: string[]): string[] {
  const out: string[] = [];
  for (const s of segments) {
    if (s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  return out;
}

function health(segments: string[]): PublicPath {
  return { kind: 'health', probe: segments.length === 2 ? segments[1] : undefined };
}
