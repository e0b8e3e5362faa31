// The proxy's keys and addresses come from the environment or the generated development keys,
// never from a constant; production names what is missing.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { developmentKeys } from '../../lib/trust/index.ts';
import { readProxyEnv } from './proxy-env.ts';

const dataDir = () => mkdtempSync(join(tmpdir(), 'proxy-env-'));

describe('proxy environment', () => {
  it('checks tokens with the development keys under DATA_DIR when no key is given, on 127.0.0.1', () => {
    const dir = dataDir();
    const env = readProxyEnv({ DATA_DIR: dir });
    expect(env.tokens).toEqual({ secret: developmentKeys(dir).jwtSecret });
    expect(env.developmentKeys).toBe(true);
    expect([env.host, env.internalHost, env.PROXY_PORT, env.internalPort]).toEqual(['127.0.0.1', '127.0.0.1', 8080, 9080]);
  });

  it('takes JWT_SECRET, or a JWKS with issuer, audience and lifetime, and the internal port beside the public one', () => {
    const secret = 's'.repeat(40);
    expect(readProxyEnv({ JWT_SECRET: secret, PROXY_PORT: '0' })).toMatchObject({ tokens: { secret }, developmentKeys: false, internalPort: 0 });
    const jwks = readProxyEnv({ JWT_JWKS_URL: 'http://127.0.0.1:1/jwks.json', JWT_ISSUER: 'https://id.example', JWT_AUDIENCE: 'shop', JWT_MAX_LIFETIME_SECONDS: '600', PROXY_INTERNAL_PORT: '7000' });
    expect(jwks.tokens).toEqual({ jwksUrl: 'http://127.0.0.1:1/jwks.json', issuer: 'https://id.example', audience: 'shop', maxLifetimeSeconds: 600 });
    expect(jwks.internalPort).toBe(7000);
  });

  it('refuses to start in production without a key, naming the variable, and listens on every address there', () => {
    expect(() => readProxyEnv({ NODE_ENV: 'production', DATA_DIR: dataDir() })).toThrow(/JWT_SECRET: is required in production/);
    expect(readProxyEnv({ NODE_ENV: 'production', JWT_SECRET: 'k'.repeat(32) }).host).toBe('0.0.0.0');
  });
});
