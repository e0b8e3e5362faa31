// The latest failing requests the proxy saw — answered 5xx, or saved by the other side after theirs
// failed — with their request and trace ids, so an operator can open the trace of one. Kept in
// memory (the last 30), or in Redis when proxies share a table so any replica's console lists all.
// Only the path is kept, never the query string: it may carry what is not the console's to show.
import type { ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import type { ExchangeRequest } from '../exchange.ts';
import { DEFAULT_ROUTE } from '../route-decision.ts';

const KEEP = 30;
/** A side that is down fails every request: a few a second are plenty to find their traces. */
const MAX_PER_SECOND = 20;
const TRACE_ID = /^00-([0-9a-f]{32})-/;

export interface FailedRequest {
  at: string;
  requestId: string | undefined;
  traceId: string | undefined;
  method: string | undefined;
  path: string;
  route: string;
  /** The side that answered. */
  side: string | undefined;
  status: number;
  /** The side that failed first, when the other one answered instead. */
  failedSide?: string;
}

export class RecentFailures {
  private memory: FailedRequest[] = [];
  private second = 0;
  private inSecond = 0;
  private readonly redis: { client: Redis; key: string } | undefined;
  private readonly onError: (err: Error) => void;
  /** `res.on('finish', failures.onFinish)`: one shared listener; only failures cost anything. */
  readonly onFinish: (this: ServerResponse) => void;

  constructor(redis: { client: Redis; key: (name: string) => string } | undefined, onError: (err: Error) => void) {
    this.redis = redis && { client: redis.client, key: redis.key('console:failures') };
    this.onError = onError;
    const self = this;
    this.onFinish = function (this: ServerResponse) {
      const exchange = (this.req as ExchangeRequest).exchange;
      if (this.statusCode >= 500 || exchange?.fellBackFrom) self.record(this);
    };
  }

  private record(res: ServerResponse): void {
    const now = Math.floor(Date.now() / 1000);
    if (now !== this.second) {
      this.second = now;
      this.inSecond = 0;
    }
    if (++this.inSecond > MAX_PER_SECOND) return;
    const req = res.req as ExchangeRequest;
    const exchange = req.exchange;
    const traceparent = req.headers.traceparent;
    const entry: FailedRequest = {
      at: new Date().toISOString(),
      requestId: typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : undefined,
      traceId: typeof traceparent === 'string' ? TRACE_ID.exec(traceparent)?.[1] : undefined,
      method: req.method,
      path: (req.url ?? '/').split('?')[0]!.slice(0, 300),
      route: exchange?.routeName ?? DEFAULT_ROUTE,
      side: exchange?.side,
      status: res.statusCode,
      ...(exchange?.fellBackFrom ? { failedSide: exchange.fellBackFrom } : {}),
    };
    if (this.redis) {
      const { client, key } = this.redis;
      client.multi().lpush(key, JSON.stringify(entry)).ltrim(key, 0, KEEP - 1).exec().catch(this.onError);
    } else this.memory = [entry, ...this.memory].slice(0, KEEP);
  }

  async latest(): Promise<FailedRequest[]> {
    if (!this.redis) return this.memory;
    return (await this.redis.client.lrange(this.redis.key, 0, KEEP - 1)).map((line) => JSON.parse(line) as FailedRequest);
  }
}
