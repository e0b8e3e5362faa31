// Service credentials on both sides of a remote call: the caller reuses a minted token for half
// its life and mints a new one before it expires; the callee checks a token's signature once and
// remembers it until the token's own expiry, while every claim is still checked on every call.
import { describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { SERVICE_TOKEN_TTL_S, ServiceForbidden, ServiceUnauthenticated, serviceCredentials } from './service-credentials.ts';

const secret = 'test-service-secret-0123456789-abcdefghij';
const rotated = 'rotated-service-secret-0123456789-abcdefg';

function clock(start = Date.UTC(2026, 0, 1, 12)) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('the caller reuses its service credential and renews it before it expires', () => {
  it('answers the same token until half its lifetime has passed, then a new one that lives longer', async () => {
    const c = clock();
    const creds = serviceCredentials({ secret, deployable: 'monolith', now: c.now });
    const first = await creds.serviceToken('catalog');
    c.t += (SERVICE_TOKEN_TTL_S * 1000) / 2 - 1;
    expect(await creds.serviceToken('catalog')).toBe(first);
    c.t += 1;
    const second = await creds.serviceToken('catalog');
    expect(second).not.toBe(first);
    // The new one is minted while the old one is still valid, and outlives it.
    expect(decodeJwt(first).exp! * 1000).toBeGreaterThan(c.t);
    expect(decodeJwt(second).exp!).toBeGreaterThan(decodeJwt(first).exp!);
  });

  it('keeps one token per audience', async () => {
    const creds = serviceCredentials({ secret, deployable: 'monolith' });
    const catalog = await creds.serviceToken('catalog');
    expect(await creds.serviceToken('payments')).not.toBe(catalog);
    expect(decodeJwt(await creds.serviceToken('payments')).aud).toBe('payments');
  });
});

describe('the callee remembers a verified token until its expiry, and no longer', () => {
  it('accepts a token again from memory until the second it expires, then refuses it as expired', async () => {
    const c = clock();
    const callee = serviceCredentials({ secret, deployable: 'catalog-service', now: c.now });
    const token = await serviceCredentials({ secret, deployable: 'monolith', now: c.now }).serviceToken('catalog');
    expect(await callee.verifyService(token, 'catalog')).toBe('monolith');
    const exp = decodeJwt(token).exp! * 1000;
    c.t = exp - 1;
    expect(await callee.verifyService(token, 'catalog')).toBe('monolith');
    c.t = exp;
    await expect(callee.verifyService(token, 'catalog')).rejects.toThrow(/expired/);
    // Once refused it stays refused (it is not put back).
    await expect(callee.verifyService(token, 'catalog')).rejects.toBeInstanceOf(ServiceUnauthenticated);
  });

  it('checks the audience and the kind of a remembered token on every call', async () => {
    const callee = serviceCredentials({ secret, deployable: 'catalog-service' });
    const caller = serviceCredentials({ secret, deployable: 'monolith' });
    const token = await caller.serviceToken('catalog');
    await callee.verifyService(token, 'catalog');
    await expect(callee.verifyService(token, 'payments')).rejects.toBeInstanceOf(ServiceForbidden);
    await expect(callee.verifyEndUser(token, 'catalog')).rejects.toBeInstanceOf(ServiceUnauthenticated);

    const user = await caller.endUserToken({ sub: 'alice', scopes: ['read'] }, 'catalog');
    expect(await callee.verifyEndUser(user, 'catalog')).toEqual({ sub: 'alice', scopes: ['read'] });
    await expect(callee.verifyService(user, 'catalog')).rejects.toBeInstanceOf(ServiceUnauthenticated);
  });

  it('refuses a token with a changed signature even though the original is remembered', async () => {
    const callee = serviceCredentials({ secret, deployable: 'catalog-service' });
    const token = await serviceCredentials({ secret, deployable: 'monolith' }).serviceToken('catalog');
    await callee.verifyService(token, 'catalog');
    const [h, p, s] = token.split('.');
    const forged = `${h}.${p}.${s!.slice(0, -2)}${s!.endsWith('AA') ? 'BB' : 'AA'}`;
    await expect(callee.verifyService(forged, 'catalog')).rejects.toThrow(/not valid/);
  });

  it('after a key rotation, refuses the tokens the old key signed and accepts the new key’s', async () => {
    const oldCaller = serviceCredentials({ secret, deployable: 'monolith' });
    const oldToken = await oldCaller.serviceToken('catalog');
    expect(await serviceCredentials({ secret, deployable: 'catalog-service' }).verifyService(oldToken, 'catalog')).toBe('monolith');

    // Both sides restart with the new key: the callee's memory of tokens belongs to the old key.
    const callee = serviceCredentials({ secret: rotated, deployable: 'catalog-service' });
    await expect(callee.verifyService(oldToken, 'catalog')).rejects.toThrow(/not valid/);
    const newToken = await serviceCredentials({ secret: rotated, deployable: 'monolith' }).serviceToken('catalog');
    expect(newToken).not.toBe(oldToken);
    expect(await callee.verifyService(newToken, 'catalog')).toBe('monolith');
  });
});
