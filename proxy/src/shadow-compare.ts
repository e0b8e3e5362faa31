// Shadow comparison (beyond the request): the answers of both sides to the same request, compared on
// status and JSON body with configured fields ignored, so a new service can be checked against the
// monolith on live traffic before any user is moved to it.

/** Removes ignored fields: a bare name matches that key at any depth, a dotted path (`items.*.id`) one place. */
export function stripIgnored(value: unknown, ignore: readonly string[]): unknown {
  const names = new Set(ignore.filter((f) => !f.includes('.')));
  const paths = ignore.filter((f) => f.includes('.')).map((f) => f.split('.'));
  const walk = (v: unknown, path: string[]): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, String(i)]));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        const here = [...path, k];
        if (names.has(k) || paths.some((p) => p.length === here.length && p.every((s, i) => s === '*' || s === here[i]))) continue;
        out[k] = walk(x, here);
      }
      return out;
    }
    return v;
  };
  return walk(value, []);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const keys = Object.keys(v as object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

export interface Answer {
  status: number;
  body: string;
}

export interface Comparison {
  match: boolean;
  reason?: string;
}

export function compareAnswers(primary: Answer, shadow: Answer, ignore: readonly string[]): Comparison {
  if (primary.status !== shadow.status) return { match: false, reason: `status ${primary.status} ≠ ${shadow.status}` };
  let a: unknown;
  let b: unknown;
  try {
    a = primary.body ? JSON.parse(primary.body) : null;
    b = shadow.body ? JSON.parse(shadow.body) : null;
  } catch {
    // Not JSON on at least one side: compare the bytes.
    return primary.body === shadow.body ? { match: true } : { match: false, reason: 'body differs (not JSON)' };
  }
  return canonical(stripIgnored(a, ignore)) === canonical(stripIgnored(b, ignore))
    ? { match: true }
    : { match: false, reason: 'JSON body differs' };
}

export interface ShadowDiff {
  at: string;
  route: string;
  method: string;
  url: string;
  reason: string;
  primary: { side: string; status: number; body: string };
  shadow: { side: string; status: number; body: string };
}

/** Match counts per route and the latest differing pairs (a bounded ring, newest first). */
export class ShadowReport {
  private readonly perRoute = new Map<string, { compared: number; matched: number; errors: number }>();
  private diffs: ShadowDiff[] = [];

  private readonly keep: number;
  private readonly mirror: ((route: string, outcome: 'match' | 'mismatch' | 'error', diff?: ShadowDiff) => void) | undefined;

  /** `mirror`: also told of every result (proxies sharing one table count them together). */
  constructor(keep = 20, mirror?: (route: string, outcome: 'match' | 'mismatch' | 'error', diff?: ShadowDiff) => void) {
    this.keep = keep;
    this.mirror = mirror;
  }

  record(route: string, match: boolean, diff?: ShadowDiff): void {
    this.mirror?.(route, match ? 'match' : 'mismatch', diff);
    const s = this.stats(route);
    s.compared++;
    if (match) s.matched++;
    else if (diff) this.diffs = [diff, ...this.diffs].slice(0, this.keep);
  }

  recordError(route: string): void {
    this.mirror?.(route, 'error');
    this.stats(route).errors++;
  }

  private stats(route: string) {
    let s = this.perRoute.get(route);
    if (!s) this.perRoute.set(route, (s = { compared: 0, matched: 0, errors: 0 }));
    return s;
  }

  snapshot() {
    const routes: Record<string, { compared: number; matched: number; errors: number; matchRate: number | null }> = {};
    for (const [name, s] of this.perRoute) routes[name] = { ...s, matchRate: s.compared ? s.matched / s.compared : null };
    return { routes, latestDiffs: this.diffs };
  }
}
