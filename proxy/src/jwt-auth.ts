// The edge checks the JWT (HS256, JWT_SECRET — the same keys as the app) on routes that ask for
// it; modules check it again. Scopes are a space-separated `scope` claim; `admin` grants admin.
import { jwtVerify, type JWTPayload } from 'jose';

export type AuthResult = { ok: true; sub: string; scopes: Set<string> } | { ok: false; status: 401 | 403; reason: string };

export class JwtVerifier {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  async check(authorization: string | undefined, scope?: string): Promise<AuthResult> {
    if (!authorization?.startsWith('Bearer ')) return { ok: false, status: 401, reason: 'a bearer token is required' };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(authorization.slice(7), this.key, { algorithms: ['HS256'] }));
    } catch (err) {
      return { ok: false, status: 401, reason: `invalid token: ${(err as Error).message}` };
    }
    const scopes = new Set(typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : []);
    if (scope && !scopes.has(scope) && !scopes.has('admin')) return { ok: false, status: 403, reason: `scope "${scope}" is required` };
    return { ok: true, sub: payload.sub ?? '', scopes };
  }
}
