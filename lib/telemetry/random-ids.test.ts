import { describe, expect, it } from 'vitest';
import { PooledIdGenerator, randomHex } from './random-ids.ts';

describe('trace and span ids from the pool', () => {
  it('are lowercase hex of the asked length, valid (never all zeros) and do not repeat, across refills of the pool', () => {
    const ids = new PooledIdGenerator();
    const seen = new Set<string>();
    // 3,000 ids of 24 bytes each: several refills of the 4 KiB pool.
    for (let i = 0; i < 3_000; i++) {
      const trace = ids.generateTraceId();
      const span = ids.generateSpanId();
      expect(trace).toMatch(/^[0-9a-f]{32}$/);
      expect(span).toMatch(/^[0-9a-f]{16}$/);
      expect(trace).not.toMatch(/^0+$/);
      seen.add(trace);
      seen.add(span);
    }
    expect(seen.size).toBe(6_000);
    expect(randomHex(3)).toMatch(/^[0-9a-f]{6}$/);
  });
});
