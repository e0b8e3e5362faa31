import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { weakEtag } from './weak-etag.ts';

// express's own ETag generator (express depends on it; it ships no types).
const etag = createRequire(import.meta.url)('etag') as (entity: Buffer, options: { weak: boolean }) => string;

describe('the weak ETag', () => {
  it('is the tag express’s default (the etag package) gives the same body', () => {
    for (const body of ['', '{"sku":"MUG-STONE"}', 'ünïcödé ✓ 𝄞', 'x'.repeat(100_000)]) {
      expect(weakEtag(body, 'utf8')).toBe(etag(Buffer.from(body, 'utf8'), { weak: true }));
      expect(weakEtag(Buffer.from(body))).toBe(etag(Buffer.from(body), { weak: true }));
    }
    expect(weakEtag('caf\u00e9', 'latin1')).toBe(etag(Buffer.from('caf\u00e9', 'latin1'), { weak: true }));
  });
});
