// Trace and span ids for every span this process starts, with tracing on (the SDK's id generator)
// or off (the propagating tracer). They are cut from a pool of cryptographically random bytes,
// turned into hex once per 4 KiB: the SDK's own generator writes Math.random into a buffer and
// hex-encodes it twice per span, about a tenth of a span's cost in a profile.
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let hex = '';
/** Next unused position in `hex` (two characters a byte). */
let at = 2 * POOL_BYTES;

/** `bytes` random bytes as lowercase hex, never all zeros (an invalid trace or span id). */
export function randomHex(bytes: number): string {
  const chars = 2 * bytes;
  for (;;) {
    if (at + chars > hex.length) {
      randomFillSync(pool);
      hex = pool.toString('hex');
      at = 0;
    }
    const id = hex.substring(at, at + chars);
    at += chars;
    if (!/^0+$/.test(id)) return id;
  }
}

/** The SDK's IdGenerator: 16-byte trace ids, 8-byte span ids. */
export class PooledIdGenerator {
  generateTraceId(): string {
    return randomHex(16);
  }
  generateSpanId(): string {
    return randomHex(8);
  }
}
