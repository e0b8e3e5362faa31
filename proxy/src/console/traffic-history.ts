// Each side's requests and errors per route over the last two minutes, in five-second buckets: the
// console's small charts. The hot path only bumps four numbers per route in memory; once a second
// they go to the bucket store — this process's memory, or Redis when proxies share a table, so
// every replica's console draws every replica's traffic.
import type { Redis } from 'ioredis';
import type { Side } from '../side-assignment.ts';

export const BUCKET_MS = 5000;
export const BUCKETS = 24;
const FLUSH_MS = 1000;

/** old requests, old errors, new requests, new errors */
type Counts = [number, number, number, number];

export interface TrafficPoint {
  /** Start of the bucket (epoch ms). */
  at: number;
  old: { requests: number; errors: number };
  new: { requests: number; errors: number };
}

interface BucketStore {
  add(bucket: number, counts: Map<string, Counts>): Promise<void>;
  read(from: number, to: number): Promise<Map<number, Map<string, Counts>>>;
}

export class TrafficHistory {
  private pending = new Map<string, Counts>();
  private readonly store: BucketStore;
  private readonly timer: NodeJS.Timeout;
  private readonly onError: (err: Error) => void;

  constructor(redis: { client: Redis; key: (name: string) => string } | undefined, onError: (err: Error) => void) {
    this.store = redis ? redisBuckets(redis.client, redis.key) : memoryBuckets();
    this.onError = onError;
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  /** Hot path: one finished request (or failed attempt) on a side of a route. */
  record(route: string, side: Side, isError: boolean): void {
    let c = this.pending.get(route);
    if (!c) this.pending.set(route, (c = [0, 0, 0, 0]));
    const i = side === 'old' ? 0 : 2;
    c[i]!++;
    if (isError) c[i + 1]!++;
  }

  async flush(): Promise<void> {
    if (!this.pending.size) return;
    const counts = this.pending;
    this.pending = new Map();
    await this.store.add(Math.floor(Date.now() / BUCKET_MS), counts).catch(this.onError);
  }

  /** The last two minutes per route, oldest bucket first (this process's unflushed counts included). */
  async history(routes: string[]): Promise<Record<string, TrafficPoint[]>> {
    await this.flush();
    const now = Math.floor(Date.now() / BUCKET_MS);
    const buckets = await this.store.read(now - BUCKETS + 1, now);
    const out: Record<string, TrafficPoint[]> = {};
    for (const route of routes) {
      out[route] = [];
      for (let b = now - BUCKETS + 1; b <= now; b++) {
        const c = buckets.get(b)?.get(route) ?? [0, 0, 0, 0];
        out[route].push({ at: b * BUCKET_MS, old: { requests: c[0], errors: c[1] }, new: { requests: c[2], errors: c[3] } });
      }
    }
    return out;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

function memoryBuckets(): BucketStore {
  const buckets = new Map<number, Map<string, Counts>>();
  return {
    async add(bucket, counts) {
      let b = buckets.get(bucket);
      if (!b) buckets.set(bucket, (b = new Map()));
      for (const [route, c] of counts) {
        const sum = b.get(route) ?? [0, 0, 0, 0];
        b.set(route, sum.map((n, i) => n + c[i]!) as Counts);
      }
      for (const old of buckets.keys()) if (old < bucket - BUCKETS) buckets.delete(old);
    },
    async read() {
      return buckets;
    },
  };
}

function redisBuckets(redis: Redis, key: (name: string) => string): BucketStore {
  const bucketKey = (b: number) => key(`console:traffic:${b}`);
  return {
    async add(bucket, counts) {
      const m = redis.multi();
      for (const [route, c] of counts) c.forEach((n, i) => n && m.hincrby(bucketKey(bucket), `${route}\t${i}`, n));
      m.pexpire(bucketKey(bucket), BUCKET_MS * (BUCKETS + 2));
      await m.exec();
    },
    async read(from, to) {
      const m = redis.multi();
      for (let b = from; b <= to; b++) m.hgetall(bucketKey(b));
      const replies = (await m.exec()) ?? [];
      const out = new Map<number, Map<string, Counts>>();
      replies.forEach(([, fields], i) => {
        const routes = new Map<string, Counts>();
        for (const [field, n] of Object.entries((fields ?? {}) as Record<string, string>)) {
          const [route, index] = field.split('\t');
          const c = routes.get(route!) ?? [0, 0, 0, 0];
          c[Number(index)] = Number(n);
          routes.set(route!, c);
        }
        out.set(from + i, routes);
      });
      return out;
    },
  };
}
