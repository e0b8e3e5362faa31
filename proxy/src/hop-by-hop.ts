// Headers that belong to one connection, not to the exchange: never passed from one side of the
// proxy to the other.

export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** Not forwarded upstream: hop-by-hop, plus `expect` (this server already answered 100-continue). */
export const NOT_FORWARDED: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'expect']);

/** Parsed headers as a flat [name, value, ...] list (repeated headers kept), without those in `skip`. */
export function flatHeaders(from: Record<string, string | string[] | undefined>, skip: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const name in from) {
    const value = from[name];
    if (value === undefined || skip.has(name)) continue;
    if (typeof value === 'string') out.push(name, value);
    else for (const v of value) out.push(name, v);
  }
  return out;
}
