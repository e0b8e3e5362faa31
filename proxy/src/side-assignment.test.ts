// The sticky key of a client without a JWT or cookie is derived from its address; the derivation
// and the pools' hashes are kept in bounded caches, which must never change a client's side.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { bucketOf, stickyKey } from './side-assignment.ts';

const from = (remoteAddress: string, headers: Record<string, string> = {}) => ({ headers, socket: { remoteAddress } }) as unknown as IncomingMessage;

describe('sticky keys and buckets', () => {
  it('give an address the same cookie and bucket every time, however many addresses came between', () => {
    const first = stickyKey(from('10.0.0.1'), 'sticky');
    const bucket = bucketOf(first.key, 'catalog');
    expect(first.newCookie).toMatch(/^[0-9a-z]+$/);
    expect(first.key).toBe(`cookie:${first.newCookie}`);
    // More addresses than the cache holds: it is cleared and filled again on the way.
    for (let i = 0; i < 10_000; i++) stickyKey(from(`10.1.${i >> 8}.${i & 255}`), 'sticky');
    const again = stickyKey(from('10.0.0.1'), 'sticky');
    expect(again).toEqual(first);
    expect(bucketOf(again.key, 'catalog')).toBe(bucket);
  });

  it('send the cookie handed out to the same bucket as the address it came from', () => {
    const byAddress = stickyKey(from('192.0.2.7'), 'sticky');
    const byCookie = stickyKey(from('198.51.100.1', { cookie: `other=1; sticky=${byAddress.newCookie}` }), 'sticky');
    expect(byCookie).toEqual({ key: byAddress.key });
    expect(bucketOf(byCookie.key, 'catalog')).toBe(bucketOf(byAddress.key, 'catalog'));
  });

  it('keep a pool hash that does not depend on what else was hashed before', () => {
    const before = bucketOf('sub:alice', 'orders');
    for (let i = 0; i < 2000; i++) bucketOf('sub:alice', `pool-${i}`);
    expect(bucketOf('sub:alice', 'orders')).toBe(before);
    // Different pools spread a user independently.
    const buckets = new Set(Array.from({ length: 50 }, (_, i) => bucketOf('sub:alice', `pool-${i}`)));
    expect(buckets.size).toBeGreaterThan(20);
  });
});
