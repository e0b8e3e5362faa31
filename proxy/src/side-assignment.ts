// Which side (old or new) serves a request. A user is hashed to a fixed bucket 0–99 and goes
// to the new side iff bucket < weight. The bucket never depends on the weight, so raising the weight
// from 10 to 20 moves exactly the users in buckets 10–19 to the new side and moves nobody back.
import type { IncomingMessage } from 'node:http';

/** FNV-1a, 32 bits: stickiness needs a stable, well-spread hash, not a cryptographic one. */
function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Final avalanche (from murmur3) so nearby keys ("user-1", "user-2") land in unrelated buckets. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export type Side = 'old' | 'new';

/**
 * Bucket 0–99 of a user for a given new pool. Keyed by the pool, not the route, so a user is on the
 * same side for every route of one extracted module (its v1 and v2 paths, say).
 */
export function bucketOf(userKey: string, newPool: string): number {
  return mix(fnv1a(userKey, poolSeed(newPool))) % 100;
}

// Asked on every request of a split route, and only a handful of pools exist: their hashes are kept.
const poolSeeds = new Map<string, number>();
function poolSeed(pool: string): number {
  let seed = poolSeeds.get(pool);
  if (seed === undefined) {
    if (poolSeeds.size >= 1024) poolSeeds.clear();
    poolSeeds.set(pool, (seed = fnv1a(pool)));
  }
  return seed;
}

export function sideFor(weight: number, userKey: string, newPool: string): Side {
  if (weight <= 0) return 'old';
  if (weight >= 100) return 'new';
  return bucketOf(userKey, newPool) < weight ? 'new' : 'old';
}

/** The JWT subject without verifying the signature: only used to keep a user on one side. */
export function jwtSubject(authorization: string | undefined): string | undefined {
  if (!authorization || !authorization.startsWith('Bearer ')) return undefined;
  const payload = authorization.split('.')[1];
  if (!payload) return undefined;
  try {
    const sub = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown }).sub;
    return typeof sub === 'string' && sub ? sub : undefined;
  } catch {
    return undefined;
  }
}

export function cookieValue(cookieHeader: string | undefined, name: string): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

export function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export interface StickyKey {
  readonly key: string;
  /** Set when the client had neither a JWT nor the cookie: the cookie value to hand out. */
  readonly newCookie?: string;
}

/**
 * The user key, in the order the issue asks: JWT subject, else the proxy's cookie, else the client
 * address. A client with no cookie gets one whose value is derived from its address, so its first
 * request and its later ones (even from another address) land in the same bucket.
 */
export function stickyKey(req: IncomingMessage, cookieName: string): StickyKey {
  const sub = jwtSubject(req.headers.authorization);
  if (sub) return { key: `sub:${sub}` };
  const cookie = cookieValue(req.headers.cookie, cookieName);
  if (cookie) return { key: `cookie:${cookie}` };
  return addressKey(clientAddress(req));
}

// A client without a cookie gets one derived from its address on each request until it sends it
// back (a load generator or a script never does): the derivation (two hashes, two base-36
// numbers, two strings) is kept per address, for a bounded number of addresses.
const MAX_ADDRESSES = 4096;
const addressKeys = new Map<string, StickyKey>();
function addressKey(addr: string): StickyKey {
  let k = addressKeys.get(addr);
  if (!k) {
    if (addressKeys.size >= MAX_ADDRESSES) addressKeys.clear();
    const value = `${mix(fnv1a(addr)).toString(36)}${mix(fnv1a(addr, 0x9747b28c)).toString(36)}`;
    addressKeys.set(addr, (k = { key: `cookie:${value}`, newCookie: value }));
  }
  return k;
}
