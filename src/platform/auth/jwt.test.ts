// The app's side of token checking: lib/trust verifies (its own tests cover the rules); here its
// refusals must become the kernel's typed errors, and modules must check scopes again.
import { describe, expect, it } from 'vitest';
import { generateKeyPair, SignJWT } from 'jose';
import { createTokenVerifier, mintToken } from './jwt.ts';
import { requireScope } from './caller.ts';
import { runWithContext } from '../context/request-context.ts';
import { Forbidden, ServiceUnavailable, Unauthenticated } from '../errors/domain-error.ts';

const secret = 'x'.repeat(40);

describe('bearer tokens in the app', () => {
  it('answers the identity of a good token', async () => {
    const v = createTokenVerifier({ secret });
    expect(await v.verify(await mintToken({ sub: 'alice', scopes: ['admin', 'ops'], secret }))).toEqual({ sub: 'alice', scopes: ['admin', 'ops'] });
  });

  it('turns a refused token into Unauthenticated (401), with the reason', async () => {
    const v = createTokenVerifier({ secret });
    const expired = await mintToken({ sub: 'a', secret, expiresIn: Math.floor(-120) });
    const err = await v.verify(expired).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unauthenticated);
    expect((err as Error).message).toMatch(/expired/);
    await expect(v.verify(await mintToken({ sub: 'a', secret: 'y'.repeat(40) }))).rejects.toBeInstanceOf(Unauthenticated);
  });

  it('answers 503, not 401, when the JWKS cannot be fetched', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('a').setExpirationTime('5m').sign((await generateKeyPair('RS256')).privateKey);
    await expect(createTokenVerifier({ jwksUrl: 'http://127.0.0.1:9/jwks.json' }).verify(token)).rejects.toBeInstanceOf(ServiceUnavailable);
  });

  it('lets a module check scopes again, whatever the edge did; admin grants every scope', () => {
    const ctx = (scopes: string[]) => ({ requestId: 'r', correlationId: 'c', caller: { sub: 'u', scopes } });
    expect(() => runWithContext(ctx([]), () => requireScope('admin'))).toThrow(Forbidden);
    expect(() => runWithContext({ requestId: 'r', correlationId: 'c' }, () => requireScope('admin'))).toThrow(Unauthenticated);
    expect(runWithContext(ctx(['admin']), () => requireScope('admin')).sub).toBe('u');
    expect(runWithContext(ctx(['admin']), () => requireScope('tester')).sub).toBe('u');
  });
});
