// Who a verified token speaks for, and what it may do. The app and the proxy read scopes the same
// way: a `scope` claim (space-separated, as OAuth 2 issues it) or an `scp` claim (a list, as some
// identity providers issue it), and `admin` grants every scope.

export interface Identity {
  sub: string;
  scopes: string[];
}

export const ADMIN_SCOPE = 'admin';
/** Lets a caller choose which side of a migrating route serves it (the proxy's forced-side header). */
export const TESTER_SCOPE = 'tester';

export function scopesFromClaims(claims: Record<string, unknown>): string[] {
  const out = new Set<string>();
  for (const raw of [claims.scope, claims.scp]) {
    if (typeof raw === 'string') for (const s of raw.split(' ')) if (s) out.add(s);
    if (Array.isArray(raw)) for (const s of raw) if (typeof s === 'string' && s) out.add(s);
  }
  return [...out];
}

export function hasScope(identity: Pick<Identity, 'scopes'> | undefined, scope: string): boolean {
  if (!identity) return false;
  return identity.scopes.includes(scope) || identity.scopes.includes(ADMIN_SCOPE);
}
