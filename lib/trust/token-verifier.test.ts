import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { bearerToken, createTokenVerifier, developmentKeys, hasScope, mintToken, TokenKeysUnavailable, TokenRejected } from './index.ts';

const secret = 'x'.repeat(40);
const sign = (claims: Record<string, unknown>, key = secret) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(key));
const nowS = () => Math.floor(Date.now() / 1000);
let jwks: Server | undefined;
afterAll(() => jwks?.close());

describe('the shared token verifier', () => {
  it('reads the subject and the scopes of `scope` and `scp`, with admin granting every scope', async () => {
    const v = createTokenVerifier({ secret });
    const id = await v.verify(await sign({ sub: 'alice', scope: 'read write', scp: ['tester'], exp: nowS() + 60 }));
    expect(id).toEqual({ sub: 'alice', scopes: ['read', 'write', 'tester'] });
    expect(hasScope(id, 'tester')).toBe(true);
    expect(hasScope(id, 'admin')).toBe(false);
    expect(hasScope({ scopes: ['admin'] }, 'tester')).toBe(true);
  });

  it('refuses a token without an expiry, or one that lives longer than the maximum', async () => {
    const v = createTokenVerifier({ secret, maxLifetimeSeconds: 3600 });
    await expect(v.verify(await sign({ sub: 'a' }))).rejects.toThrow(/no expiry/);
    await expect(v.verify(await sign({ sub: 'a', exp: nowS() + 100 * 365 * 24 * 3600 }))).rejects.toThrow(/lives longer/);
    await expect(v.verify(await sign({ sub: 'a', iat: nowS() - 7200, exp: nowS() + 60 }))).rejects.toBeInstanceOf(TokenRejected);
    expect((await v.verify(await sign({ sub: 'a', iat: nowS(), exp: nowS() + 3000 }))).sub).toBe('a');
  });

  it('refuses expired, tampered, unsigned and subject-less tokens', async () => {
    const v = createTokenVerifier({ secret });
    await expect(v.verify(await sign({ sub: 'a', exp: nowS() - 120 }))).rejects.toThrow(/expired/);
    await expect(v.verify(await sign({ sub: 'a', exp: nowS() + 60 }, 'y'.repeat(40)))).rejects.toBeInstanceOf(TokenRejected);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(`{"sub":"a","exp":${nowS() + 60}}`).toString('base64url')}.`;
    await expect(v.verify(none)).rejects.toBeInstanceOf(TokenRejected);
    await expect(v.verify(await sign({ exp: nowS() + 60 }))).rejects.toThrow(/no subject/);
  });

  it('checks issuer and audience when configured', async () => {
    const v = createTokenVerifier({ secret, issuer: 'https://id.example', audience: 'shop' });
    expect((await v.verify(await mintToken({ sub: 'a', secret, issuer: 'https://id.example', audience: 'shop' }))).sub).toBe('a');
    await expect(v.verify(await mintToken({ sub: 'a', secret, issuer: 'https://evil.example', audience: 'shop' }))).rejects.toBeInstanceOf(TokenRejected);
    await expect(v.verify(await mintToken({ sub: 'a', secret }))).rejects.toBeInstanceOf(TokenRejected);
  });

  it('trusts a verified token until its own expiry, and not a moment longer', async () => {
    let now = Date.now();
    const v = createTokenVerifier({ secret, now: () => now, clockToleranceSeconds: 0 });
    const token = await sign({ sub: 'brief', iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 2 });
    expect((await v.verify(token)).sub).toBe('brief');
    now += 1000;
    expect((await v.verify(token)).sub).toBe('brief');
    now += 5000;
    await expect(v.verify(token)).rejects.toThrow(/expired/);
  });

  it('remembers, without a promise, only a token it verified and still trusts', async () => {
    let now = Date.now();
    const v = createTokenVerifier({ secret, now: () => now, clockToleranceSeconds: 0 });
    const token = await sign({ sub: 'quick', iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 2 });
    expect(v.remembered(token)).toBeUndefined();
    await expect(v.verify(await sign({ sub: 'forged' }, 'y'.repeat(40)))).rejects.toBeInstanceOf(TokenRejected);
    expect(v.remembered(await sign({ sub: 'forged' }, 'y'.repeat(40)))).toBeUndefined();
    await v.verify(token);
    expect(v.remembered(token)).toEqual({ sub: 'quick', scopes: [] });
    now += 5000;
    expect(v.remembered(token)).toBeUndefined();
    await expect(v.verify(token)).rejects.toThrow(/expired/);
  });

  it('does not let a cached token outlive a key rotation: a verifier with the new key refuses the old token', async () => {
    const old = await mintToken({ sub: 'r', secret });
    expect((await createTokenVerifier({ secret }).verify(old)).sub).toBe('r');
    await expect(createTokenVerifier({ secret: 'z'.repeat(40) }).verify(old)).rejects.toBeInstanceOf(TokenRejected);
  });

  it('verifies RS256 tokens against a JWKS, refuses HS256 ones then, and says 503 when the keys cannot be fetched', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((r) => jwks!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks.json`;
    const token = await new SignJWT({ scope: 'admin' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('carol').setExpirationTime('5m').sign(privateKey);
    expect(await createTokenVerifier({ jwksUrl: url }).verify(token)).toEqual({ sub: 'carol', scopes: ['admin'] });
    await expect(createTokenVerifier({ jwksUrl: url }).verify(await mintToken({ sub: 'x', secret }))).rejects.toBeInstanceOf(TokenRejected);
    await expect(createTokenVerifier({ jwksUrl: 'http://127.0.0.1:9/jwks.json' }).verify(token)).rejects.toBeInstanceOf(TokenKeysUnavailable);
  });

  it('stops accepting a remembered token once the JWKS no longer holds the key it was verified with', async () => {
    const pair = async (kid: string) => {
      const { publicKey, privateKey } = await generateKeyPair('ES256');
      return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
    };
    const [k1, k2] = [await pair('k1'), await pair('k2')];
    let served = [k1.jwk];
    let fetches = 0;
    const server = createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`;
      const signWith = (k: typeof k1) => new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: k.jwk.kid }).setSubject('dave').setExpirationTime('5m').sign(k.privateKey);
      const keysMaxAgeMs = 300;
      const v = createTokenVerifier({ jwksUrl: url, keysMaxAgeMs });
      const old = await signWith(k1);
      expect((await v.verify(old)).sub).toBe('dave');
      expect((await v.verify(old)).sub).toBe('dave');
      expect(v.remembered(old)?.sub).toBe('dave');
      // The key is rotated out: once the fetched keys are stale they are fetched again, and the
      // token remembered as verified is checked against them, not trusted from the cache.
      served = [k2.jwk];
      const before = fetches;
      await new Promise((r) => setTimeout(r, keysMaxAgeMs + 50));
      expect(v.remembered(old)).toBeUndefined(); // the keys it was checked with are stale
      await expect(v.verify(old)).rejects.toBeInstanceOf(TokenRejected);
      expect(fetches).toBeGreaterThan(before);
      expect((await v.verify(await signWith(k2))).sub).toBe('dave');
    } finally {
      server.close();
    }
  });

  it('reads the bearer token whatever the case of the scheme, and nothing else', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('BEARER   abc.def.ghi ')).toBe('abc.def.ghi');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('development keys', () => {
  it('are generated once into DATA_DIR, readable by their owner only, and shared by every later reader', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'keys-')), 'data');
    const results = await Promise.all(Array.from({ length: 8 }, async () => developmentKeys(dir)));
    expect(new Set(results.map((k) => k.jwtSecret)).size).toBe(1);
    expect(results[0]!.jwtSecret).not.toBe(results[0]!.serviceSecret);
    expect(results[0]!.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(statSync(results[0]!.file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(results[0]!.file, 'utf8')).jwtSecret).toBe(results[0]!.jwtSecret);
    expect(developmentKeys(dir).jwtSecret).toBe(results[0]!.jwtSecret);
  });
});
