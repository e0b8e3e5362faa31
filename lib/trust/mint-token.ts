// Development tokens (`npm run token`, tests, benchmarks): HS256 with the deployment's key.
import { SignJWT } from 'jose';

export interface MintOptions {
  sub: string;
  scopes?: string[];
  secret: string;
  /** A jose duration (`12h`, `5m`) or seconds from now. Default 12 h. */
  expiresIn?: string | number;
  issuer?: string;
  audience?: string;
}

export async function mintToken(o: MintOptions): Promise<string> {
  const jwt = new SignJWT({ scope: (o.scopes ?? []).join(' ') });
  if (o.issuer) jwt.setIssuer(o.issuer);
  if (o.audience) jwt.setAudience(o.audience);
  const expires = typeof o.expiresIn === 'number' ? Math.floor(Date.now() / 1000) + o.expiresIn : (o.expiresIn ?? '12h');
  return jwt.setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(o.sub).setIssuedAt().setExpirationTime(expires).sign(new TextEncoder().encode(o.secret));
}
