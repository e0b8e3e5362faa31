// Several built-in proxy processes (replicas, or the workers of one) sharing the live table through
// Redis, so that they behave as one proxy:
// - weights: a hash of route → weight with a version key. A weight set on any process (admin API,
//   canary step, or an edit of its own file) is written there and announced on a channel; every
//   process applies it within moments, and checks the version every second in case an
//   announcement was missed (a reconnect). A process that starts takes the shared weights.
// - one canary controller: a lease (a key with an expiry, renewed by its holder) says which
//   process judges and advances canaries; when the holder dies the lease runs out and another
//   takes over from the state the holder saved. Every process sends its finished requests on
//   canary routes to the holder through a list; start/abort commands go through the channel.
// - shadow results and fallback counts are counted in Redis, so the admin API shows all of them.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ShadowDiff } from './shadow-compare.ts';

const LEASE_MS = 3000;
const RENEW_MS = 1000;
const VERSION_POLL_MS = 1000;
const MAX_DIFFS = 20;

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const DRAIN = `local v = redis.call('LRANGE', KEYS[1], 0, -1) redis.call('DEL', KEYS[1]) return v`;

export type SharedEvent = { type: 'weights'; version: number } | { type: 'canary'; op: 'start' | 'abort'; route: string; reason?: string };

export interface SharedTableHooks {
  /** The shared weights changed (all of them, as they stand). */
  onWeights(weights: Map<string, number>): void;
  /** A canary command for whoever holds the lease. */
  onCanaryCommand(cmd: { op: 'start' | 'abort'; route: string; reason?: string }): void;
  /** This process gained (true) or lost (false) the canary lease. */
  onLease(held: boolean): void;
}

export class SharedTable {
  readonly id = randomUUID();
  private readonly redis: Redis;
  private readonly sub: Redis;
  private readonly key: (name: string) => string;
  private readonly log: Logger;
  private hooks: SharedTableHooks | undefined;
  private version = -1;
  private held = false;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(url: string, prefix: string, log: Logger) {
    this.log = log;
    this.key = (name) => `${prefix}table:${name}`;
    const onError = (err: Error) => log.error({ err: err.message }, 'shared table: redis error');
    this.redis = new Redis(url, { maxRetriesPerRequest: 1 });
    this.sub = new Redis(url, { maxRetriesPerRequest: 1 });
    this.redis.on('error', onError);
    this.sub.on('error', onError);
  }

  /** Joins: takes the shared weights (returned, possibly empty), listens, competes for the lease. */
  async start(hooks: SharedTableHooks): Promise<Map<string, number>> {
    this.hooks = hooks;
    this.sub.on('message', (_channel: string, message: string) => this.onMessage(message));
    await this.sub.subscribe(this.key('events'));
    const weights = await this.readWeights();
    this.every(VERSION_POLL_MS, () => this.checkVersion());
    this.every(RENEW_MS, () => this.lease());
    void this.lease();
    return weights;
  }

  get holdsLease(): boolean {
    return this.held;
  }

  /** Who holds the canary lease (a process id), or undefined. */
  async leaseHolder(): Promise<string | undefined> {
    return (await this.redis.get(this.key('lease'))) ?? undefined;
  }

  async publishWeights(weights: Record<string, number>): Promise<void> {
    if (!Object.keys(weights).length) return;
    const version = await this.redis.multi().hset(this.key('weights'), weights).incr(this.key('version')).exec();
    const v = Number(version?.[1]?.[1]);
    this.version = v;
    await this.redis.publish(this.key('events'), JSON.stringify({ type: 'weights', version: v } satisfies SharedEvent));
  }

  async sendCanaryCommand(cmd: { op: 'start' | 'abort'; route: string; reason?: string }): Promise<void> {
    await this.redis.publish(this.key('events'), JSON.stringify({ type: 'canary', ...cmd } satisfies SharedEvent));
  }

  /** The canary holder's saved state and view, for a process that takes over or shows it. */
  async saveCanary(state: unknown, view: unknown): Promise<void> {
    await this.redis.set(this.key('canary'), JSON.stringify({ state, view, holder: this.id, at: Date.now() }));
  }

  async loadCanary(): Promise<{ state: unknown; view: unknown; holder: string } | undefined> {
    const text = await this.redis.get(this.key('canary'));
    return text ? (JSON.parse(text) as { state: unknown; view: unknown; holder: string }) : undefined;
  }

  /** Finished requests on canary routes, for the holder: [route, side, ms, isError][]. */
  async pushResults(batch: unknown[]): Promise<void> {
    await this.redis.rpush(this.key('results'), JSON.stringify(batch));
  }

  async drainResults(): Promise<unknown[][]> {
    const raw = (await this.redis.eval(DRAIN, 1, this.key('results'))) as string[];
    return raw.map((r) => JSON.parse(r) as unknown[]);
  }

  recordShadow(route: string, outcome: 'match' | 'mismatch' | 'error', diff?: ShadowDiff): void {
    const m = this.redis.multi().hincrby(this.key(`shadow:${route}`), outcome === 'error' ? 'errors' : 'compared', 1);
    if (outcome === 'match') m.hincrby(this.key(`shadow:${route}`), 'matched', 1);
    if (diff) m.lpush(this.key('shadow:diffs'), JSON.stringify(diff)).ltrim(this.key('shadow:diffs'), 0, MAX_DIFFS - 1);
    m.exec().catch((err: Error) => this.log.error({ err: err.message }, 'shared table: shadow result not recorded'));
  }

  recordFallback(route: string, from: string, to: string): void {
    this.redis.hincrby(this.key('fallbacks'), `${route} ${from} ${to}`, 1).catch((err: Error) => this.log.error({ err: err.message }, 'shared table: fallback not counted'));
  }

  /** Shadow comparisons of every process, per route, and the latest differing pairs. */
  async shadowSnapshot(routes: string[]) {
    const out: Record<string, { compared: number; matched: number; errors: number; matchRate: number | null }> = {};
    for (const route of routes) {
      const h = await this.redis.hgetall(this.key(`shadow:${route}`));
      if (!Object.keys(h).length) continue;
      const [compared, matched, errors] = [Number(h.compared ?? 0), Number(h.matched ?? 0), Number(h.errors ?? 0)];
      out[route] = { compared, matched, errors, matchRate: compared ? matched / compared : null };
    }
    const diffs = (await this.redis.lrange(this.key('shadow:diffs'), 0, MAX_DIFFS - 1)).map((d) => JSON.parse(d) as ShadowDiff);
    return { routes: out, latestDiffs: diffs };
  }

  /** Fallbacks of every process: route → "from→to" → count. */
  async fallbackCounts(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [field, n] of Object.entries(await this.redis.hgetall(this.key('fallbacks')))) {
      const [route, from, to] = field.split(' ');
      (out[route!] ??= {})[`${from}→${to}`] = Number(n);
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    // Hand the lease over at once instead of letting it run out.
    if (this.held) await this.redis.eval(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`, 1, this.key('lease'), this.id).catch(() => 0);
    await Promise.all([this.sub.quit().catch(() => this.sub.disconnect()), this.redis.quit().catch(() => this.redis.disconnect())]);
  }

  private every(ms: number, fn: () => Promise<void>): void {
    const t = setInterval(() => void fn().catch((err: Error) => this.log.error({ err: err.message }, 'shared table: periodic step failed')), ms);
    t.unref();
    this.timers.push(t);
  }

  private onMessage(message: string): void {
    let event: SharedEvent;
    try {
      event = JSON.parse(message) as SharedEvent;
    } catch {
      return;
    }
    if (event.type === 'weights') {
      if (event.version !== this.version) void this.readWeights().then((w) => this.hooks?.onWeights(w), () => undefined);
    } else if (event.type === 'canary' && this.held) this.hooks?.onCanaryCommand(event);
  }

  private async readWeights(): Promise<Map<string, number>> {
    const [version, weights] = await Promise.all([this.redis.get(this.key('version')), this.redis.hgetall(this.key('weights'))]);
    this.version = Number(version ?? 0);
    return new Map(Object.entries(weights).map(([route, w]) => [route, Number(w)]));
  }

  private async checkVersion(): Promise<void> {
    const version = Number((await this.redis.get(this.key('version'))) ?? 0);
    if (version !== this.version) this.hooks?.onWeights(await this.readWeights());
  }

  private async lease(): Promise<void> {
    if (this.closed) return;
    let now: boolean;
    try {
      const kept = this.held ? Number(await this.redis.eval(RENEW, 1, this.key('lease'), this.id, String(LEASE_MS))) === 1 : false;
      now = kept || (await this.redis.set(this.key('lease'), this.id, 'PX', LEASE_MS, 'NX')) === 'OK';
    } catch (err) {
      // Cannot tell whether the lease is still ours: stop acting on it (another may take it over).
      this.log.error({ err: (err as Error).message }, 'shared table: canary lease not renewed');
      now = false;
    }
    if (now !== this.held) {
      this.held = now;
      this.hooks?.onLease(now);
    }
  }
}
