import { createServer, type Server } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createTokenVerifier, mintToken } from './jwt.ts';
import { requireScope } from './caller.ts';
import { runWithContext } from '../context/request-context.ts';
import { eventually } from '../../../test/support/eventually.ts';
import { Forbidden, ServiceUnavailable, Unauthenticated } from '../errors/domain-error.ts';

const secret = 'x'.repeat(40);
let jwks: Server | undefined;
afterAll(() => jwks?.close());

describe('bearer tokens', () => {
  it('verifies HS256 development tokens and reads subject and scopes', async () => {
    const v = createTokenVerifier({ secret });
    expect(await v.verify(await mintToken({ sub: 'alice', scopes: ['admin', 'ops'], secret }))).toEqual({ sub: 'alice', scopes: ['admin', 'ops'] });
  });

  it('refuses expired, tampered, unsigned and subject-less tokens', async () => {
    const v = createTokenVerifier({ secret });
    const expired = await mintToken({ sub: 'a', secret, expiresIn: '-1s' });
    await expect(v.verify(expired)).rejects.toThrow('The token has expired');
    const other = await mintToken({ sub: 'a', secret: 'y'.repeat(40) });
    await expect(v.verify(other)).rejects.toBeInstanceOf(Unauthenticated);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"a"}').toString('base64url')}.`;
    await expect(v.verify(none)).rejects.toBeInstanceOf(Unauthenticated);
    const noSub = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(secret));
    await expect(v.verify(noSub)).rejects.toThrow('no subject');
  });

  it('verifies RS256 tokens against a JWKS URL for production', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((r) => jwks!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/.well-known/jwks.json`;
    const token = await new SignJWT({ scope: 'admin' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('carol').setExpirationTime('5m').sign(privateKey);
    expect(await createTokenVerifier({ secret, jwksUrl: url }).verify(token)).toEqual({ sub: 'carol', scopes: ['admin'] });
    // An HS256 token signed with the dev secret is not accepted once a JWKS is configured.
    await expect(createTokenVerifier({ secret, jwksUrl: url }).verify(await mintToken({ sub: 'x', secret }))).rejects.toBeInstanceOf(Unauthenticated);
  });

  it('remembers a verified token only until it expires', async () => {
    const v = createTokenVerifier({ secret });
    const token = await mintToken({ sub: 'brief', secret, expiresIn: '2s' });
    expect((await v.verify(token)).sub).toBe('brief');
    expect((await v.verify(token)).sub).toBe('brief');
    await expect(eventually(() => v.verify(token).then(() => false, (e) => e instanceof Unauthenticated), 'token expired', 5_000, 100)).resolves.toBe(true);
  });

  it('checks issuer and audience when configured', async () => {
    const v = createTokenVerifier({ secret, issuer: 'https://id.example', audience: 'shop' });
    expect((await v.verify(await mintToken({ sub: 'a', secret, issuer: 'https://id.example', audience: 'shop' }))).sub).toBe('a');
    await expect(v.verify(await mintToken({ sub: 'a', secret, issuer: 'https://evil.example', audience: 'shop' }))).rejects.toBeInstanceOf(Unauthenticated);
    await expect(v.verify(await mintToken({ sub: 'a', secret }))).rejects.toBeInstanceOf(Unauthenticated);
  });

  it('answers 503, not 401, when the JWKS cannot be fetched', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('a').setExpirationTime('5m').sign((await generateKeyPair('RS256')).privateKey);
    await expect(createTokenVerifier({ secret, jwksUrl: 'http://127.0.0.1:9/jwks.json' }).verify(token)).rejects.toBeInstanceOf(ServiceUnavailable);
  });

  it('lets a module check scopes again, whatever the edge did', () => {
    const ctx = (scopes: string[]) => ({ requestId: 'r', correlationId: 'c', caller: { sub: 'u', scopes } });
    expect(() => runWithContext(ctx([]), () => requireScope('admin'))).toThrow(Forbidden);
    expect(() => runWithContext({ requestId: 'r', correlationId: 'c' }, () => requireScope('admin'))).toThrow(Unauthenticated);
    expect(runWithContext(ctx(['admin']), () => requireScope('admin')).sub).toBe('u');
  });
});
