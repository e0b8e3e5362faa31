// Token-bucket limits per client at the edge. In memory for one proxy; in Redis when REDIS_URL
// is set, so several proxy instances (or workers) draw from one bucket per client and enforce one
// limit. The Redis bucket is updated by a Lua script, atomically, using Redis's clock so instances
// with skewed clocks agree.
import { Redis } from 'ioredis';
import type { RateLimitConfig } from './config-schema.ts';

export interface Verdict {
  allowed: boolean;
  /** Seconds until one token is back (for Retry-After), when not allowed. */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  take(key: string, limit: RateLimitConfig): Verdict | Promise<Verdict>;
  close(): Promise<void>;
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private sweeps = 0;

  take(key: string, limit: RateLimitConfig): Verdict {
    const now = performance.now();
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: limit.capacity, at: now };
      this.buckets.set(key, b);
      // Keep the map from growing without bound under many distinct clients.
      if (++this.sweeps % 10_000 === 0) this.sweep(now, limit);
    }
    b.tokens = Math.min(limit.capacity, b.tokens + ((now - b.at) / 1000) * limit.refillPerSecond);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / limit.refillPerSecond)) };
  }

  private sweep(now: number, limit: RateLimitConfig): void {
    const full = (limit.capacity / limit.refillPerSecond) * 1000;
    for (const [k, b] of this.buckets) if (now - b.at > full) this.buckets.delete(k);
  }

  async close(): Promise<void> {}
}

const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or capacity
local at = tonumber(b[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate / 1000)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate) + 1000)
return {allowed, retry}
`;

type TakeCommand = (key: string, capacity: number, rate: number) => Promise<[number, number]>;

export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis;
  private readonly takeCmd: TakeCommand;
  private readonly prefix: string;
  private readonly onError: (err: Error) => void;

  constructor(url: string, prefix: string, onError: (err: Error) => void) {
    this.prefix = prefix;
    this.onError = onError;
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: true, lazyConnect: false });
    this.redis.on('error', onError);
    this.redis.defineCommand('proxyTakeToken', { numberOfKeys: 1, lua: TAKE_SCRIPT });
    const cmd = (this.redis as unknown as { proxyTakeToken: TakeCommand }).proxyTakeToken.bind(this.redis);
    this.takeCmd = cmd;
  }

  async take(key: string, limit: RateLimitConfig): Promise<Verdict> {
    try {
      const [allowed, retryMs] = await this.takeCmd(this.prefix + key, limit.capacity, limit.refillPerSecond);
      return { allowed: allowed === 1, retryAfterSeconds: Math.max(1, Math.ceil(retryMs / 1000)) };
    } catch (err) {
      // Fail open: an unreachable Redis must not take the whole edge down; it is logged and counted.
      this.onError(err as Error);
      return { allowed: true, retryAfterSeconds: 0 };
    }
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
