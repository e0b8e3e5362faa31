// One forwarded request from its route decision to its end, as a small state machine:
//
//   routing ─▶ buffering ─▶ sending ─▶ streaming ─▶ answered
//      └────────────────────▶ │  ▲
//                             │  └─ connect error: another instance; side failed: the other side
//                             ├─▶ discarding (a 502/503/504 to retry) ─▶ sending on the other side
//                             └─▶ failed (the proxy answers 400/502/504 itself, or the client left)
//
// - routing: created with its route decision, not started.
// - buffering: reading a body that may have to be sent twice (a replayable request that may be
//   retried, or one that is shadowed). Other bodies stream straight through, never parsed.
// - sending: an attempt is out on an instance; no answer yet.
// - streaming: the upstream's answer is being written to the client (no retry from here on).
// - discarding: the answer was a 502/503/504 and the other side will be tried; its body is dropped.
// - answered / failed: over.
//
// A request that is safe to repeat (GET, HEAD, or with an Idempotency-Key) and whose body, if
// any, fits in maxReplayBodyBytes is "replayable": it may be retried once on another instance of
// its pool after a connect error, and once on the other side when its side fails. A request of any
// method whose connection was refused (no connection was ever made, so nothing of it reached the
// upstream and a streamed body has not been read) is retried the same way; when nothing accepts
// it, the answer is 503 with Retry-After rather than 502. An exchange holds one reference to the shared dependencies, and a request whose body
// streams through allocates no closure on its way (see docs/decisions/0007-proxy-hot-path-on-undici.md).
import type http from 'node:http';
import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { RouteTable } from './route-table.ts';
import type { ShadowConfig } from './config-schema.ts';
import type { UpstreamInstance, UpstreamPool } from './upstream-pool.ts';
import type { Side } from './side-assignment.ts';
import type { RouteDecision } from './route-decision.ts';
import { Attempt, type AttemptListener } from './attempt.ts';
import { ShadowCopy, wantsShadow, type ShadowDeps } from './shadow-copy.ts';
import { HOP_BY_HOP, NOT_FORWARDED, flatHeaders } from './hop-by-hop.ts';
import type { RequestTrace } from './request-trace.ts';
import { CLIENT_GONE, REFUSED_REQUEST, RETRY_STATUS, TIMEOUT_CODES, clientGone, isConnectError } from './upstream-failures.ts';
import { sendProblem } from './problem.ts';

// A 502/503/504 body up to this size is read to the end before retrying on the other side, so its
// connection goes back to the pool; a larger or unsized one is cut off and its connection dropped.
const MAX_DRAIN_BYTES = 64 * 1024;
const PRINTABLE_ASCII = /^[\t\x20-\x7e]+$/;

export type ExchangeState = 'routing' | 'buffering' | 'sending' | 'streaming' | 'discarding' | 'answered' | 'failed';

export interface ExchangeDeps extends ShadowDeps {
  table(): RouteTable;
  log: Logger;
  /** One finished request on a side of a route (the canary listens). */
  onResult(route: string, side: Side, latencyMs: number, isError: boolean): void;
  /** A request went to the other side (counted for the admin API, with every proxy's when shared). */
  recordFallback(route: string, from: Side, to: Side): void;
}

/** The client request, carrying its exchange so the shared `close` listener can find it. */
/** `trace`: the request's spans, when this process exports them (request-trace.ts). */
export type ExchangeRequest = http.IncomingMessage & { exchange?: Exchange; trace?: RequestTrace };

/**
 * Aborts the upstream request when the client leaves before its answer is complete (nobody would
 * read the rest). One shared listener, so nothing is allocated per request.
 */
function abortUpstreamIfUnfinished(this: http.ServerResponse): void {
  if (!this.writableFinished) (this.req as ExchangeRequest).exchange?.attempt?.abort(clientGone());
}

export class Exchange implements AttemptListener {
  state: ExchangeState = 'routing';
  readonly routeName: string;
  side: Side;
  pool: UpstreamPool;
  other: UpstreamPool | undefined;
  readonly requestId: string;
  readonly req: ExchangeRequest;
  readonly res: http.ServerResponse;
  /** The attempt in progress. */
  attempt: Attempt | undefined;
  /** The side that failed, when the request was sent to the other one (the console lists these). */
  fellBackFrom: Side | undefined;
  private readonly deps: ExchangeDeps;
  private readonly setCookie: string | undefined;
  private readonly start = performance.now();
  private readonly hasBody: boolean;
  /** Safe to repeat, and its body (if any) small enough to keep for a replay. */
  private readonly replayable: boolean;
  /** Each retry happens at most once: on another instance of the pool, and on the other side. */
  private triedOtherInstance = false;
  private triedOtherSide = false;
  private body: Buffer | undefined;
  private shadow: ShadowCopy | undefined;
  /** The route's shadow settings, when a copy is possible at all (another side, a bufferable body). */
  private readonly shadowConfig: ShadowConfig | undefined;

  constructor(deps: ExchangeDeps, decision: RouteDecision, req: ExchangeRequest, res: http.ServerResponse, requestId: string) {
    this.deps = deps;
    this.routeName = decision.routeName;
    this.side = decision.side;
    this.pool = decision.pool;
    this.other = decision.other;
    this.setCookie = decision.setCookie;
    this.requestId = requestId;
    this.req = req;
    this.res = res;
    const h = req.headers;
    const method = req.method ?? 'GET';
    this.hasBody = h['content-length'] !== undefined ? h['content-length'] !== '0' : h['transfer-encoding'] !== undefined;
    const bufferable = !this.hasBody || (h['content-length'] !== undefined && Number(h['content-length']) <= deps.table().config.maxReplayBodyBytes);
    const safe = method === 'GET' || method === 'HEAD' || h['idempotency-key'] !== undefined;
    this.replayable = safe && bufferable;
    this.shadowConfig = this.other !== undefined && bufferable ? decision.route?.config.shadow : undefined;
  }

  /** Starts the exchange: buffers the body if it may be replayed or shadowed, then sends it. */
  begin(): void {
    const { req, res } = this;
    req.exchange = this;
    // 'close' is emitted once: on() rather than once(), which wraps the listener anew per request.
    res.on('close', abortUpstreamIfUnfinished);
    const shadowConfig = this.shadowConfig;
    const shadowed = wantsShadow(shadowConfig, req.method ?? 'GET');
    const needBody = this.hasBody && ((this.replayable && (this.other !== undefined || this.pool.instances.length > 1)) || shadowed);
    if (!needBody) {
      if (shadowed) this.startShadow(shadowConfig!.ignoreFields);
      this.send();
      return;
    }
    this.state = 'buffering';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => {
      this.body = Buffer.concat(chunks);
      if (shadowed) this.startShadow(shadowConfig!.ignoreFields);
      this.send();
    });
    req.once('error', () => res.destroy());
  }

  private startShadow(ignore: readonly string[]): void {
    this.shadow = new ShadowCopy(this.deps, this.req, this.other!, this.side, this.body, ignore, this.deps.table().config.upstreamTimeoutMs);
  }

  /** Sends the request to an instance of the current side's pool (not `avoid`, if it has others). */
  private send(avoid?: UpstreamInstance): void {
    this.state = 'sending';
    const { req } = this;
    const instance = this.pool.pick(avoid);
    const timeout = this.deps.table().config.upstreamTimeoutMs;
    if (req.trace) {
      // Each attempt is a client span of its own; the upstream's server span hangs below it.
      const traceparent = req.trace.attempt(req.method ?? 'GET', instance.url, this.side);
      if (traceparent) req.headers.traceparent = traceparent;
    }
    const options: Dispatcher.DispatchOptions & { servername?: string } = {
      origin: instance.origin,
      // TLS names the instance, not the client's Host (which is forwarded as is): one pool of
      // connections per instance whatever hosts the clients use. (undici takes it; its types omit it.)
      servername: instance.tlsName,
      path: instance.pathPrefix + (req.url ?? '/'),
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: flatHeaders(req.headers, NOT_FORWARDED),
      // A buffered body (replay possible) or the client's stream, never parsed.
      body: this.body ?? (this.hasBody ? req : null),
      headersTimeout: timeout,
      bodyTimeout: timeout,
    };
    this.attempt = new Attempt(this, instance);
    this.deps.agents.dispatcher.dispatch(options, this.attempt);
  }

  answerStarted(_attempt: Attempt, controller: Dispatcher.DispatchController, status: number, upstream: Record<string, string | string[] | undefined>, statusMessage: string | undefined): void {
    const { res } = this;
    this.req.trace?.attemptAnswered(status);
    if (RETRY_STATUS.has(status) && this.replayable && !this.triedOtherSide && this.other !== undefined && !res.destroyed) {
      // Counted against this side now; read to the end (so the connection goes back to the pool),
      // then retried on the other side.
      this.deps.metrics.upstreamErrors.labels(this.routeName, this.side, String(status)).inc();
      this.deps.onResult(this.routeName, this.side, performance.now() - this.start, true);
      this.state = 'discarding';
      const length = Number(upstream['content-length'] ?? Number.NaN);
      if (!(length <= MAX_DRAIN_BYTES)) controller.abort(new Error('not draining a large error answer'));
      return;
    }
    const headers = flatHeaders(upstream, HOP_BY_HOP);
    if (upstream['x-request-id'] === undefined) headers.push('x-request-id', this.requestId);
    if (this.setCookie) headers.push('set-cookie', this.setCookie);
    const servedBy = this.deps.table().config.servedByHeader;
    if (servedBy) headers.push(servedBy, this.side);
    // The upstream's reason phrase goes through as well, when it survives the trip: undici decodes it
    // as UTF-8, so a byte outside ASCII (allowed in HTTP) arrives as U+FFFD, which Node refuses to
    // write. Then, or when there is none, Node's standard phrase for the status.
    res.writeHead(status, statusMessage && PRINTABLE_ASCII.test(statusMessage) ? statusMessage : undefined, headers);
    this.state = 'streaming';
    this.shadow?.startKeeping();
  }

  answerData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.state !== 'streaming') return; // a 502/503/504 that will be retried elsewhere: dropped
    this.shadow?.keep(chunk);
    // undici's flow control: stop reading the upstream until the client has taken what it has.
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
    }
  }

  answerEnded(_attempt: Attempt): void {
    this.req.trace?.attemptEnded();
    if (this.state === 'discarding') return this.tryOtherSideAfterStatus();
    this.res.end();
    this.state = 'answered';
    const status = this.res.statusCode;
    const ms = performance.now() - this.start;
    this.deps.metrics.observe(this.routeName, this.side, status, ms / 1000);
    this.deps.onResult(this.routeName, this.side, ms, status >= 500);
    this.shadow?.compare(this.deps, this.routeName, this.side, this.req.method ?? 'GET', this.req.url ?? '/', status);
  }

  answerFailed(attempt: Attempt, err: NodeJS.ErrnoException): void {
    this.req.trace?.attemptFailed(err);
    // A 502/503/504 already counted against this side, whatever became of its body: try the other.
    if (this.state === 'discarding') return this.tryOtherSideAfterStatus();
    this.failed(attempt, err);
  }

  private tryOtherSideAfterStatus(): void {
    if (!this.fallBack('status retried')) this.failed(this.attempt!, Object.assign(new Error('the other side could not be tried'), { code: 'ENOFALLBACK' }));
  }

  /**
   * Tries the other side, if there is one, nothing has been answered yet, and the request may be
   * sent again: it is replayable, or its connection was refused (nothing of it reached anything,
   * so any method may go elsewhere; its body, if streamed, has not been read).
   */
  private fallBack(why: string, refused = false): boolean {
    const { res } = this;
    if (this.triedOtherSide || !this.other || res.headersSent || res.destroyed || !(this.replayable || refused)) return false;
    this.triedOtherSide = true;
    const from = this.side;
    this.fellBackFrom = from;
    const to: Side = from === 'new' ? 'old' : 'new';
    this.deps.metrics.fallbacks.labels(this.routeName, from, to).inc();
    this.deps.recordFallback(this.routeName, from, to);
    if (refused) this.deps.metrics.refusedRetries.labels(this.routeName, from, 'other-side').inc();
    this.deps.log.warn({ requestId: this.requestId, route: this.routeName, from, to, why }, 'falling back to the other side');
    const failed = this.pool;
    this.pool = this.other;
    this.other = failed;
    this.side = to;
    this.req.trace?.fellBack(from, to, this.pool.name, why);
    this.send();
    return true;
  }

  /** The attempt ended in an error: another instance, the other side, or an answer of our own. */
  private failed(attempt: Attempt, err: NodeJS.ErrnoException): void {
    const { res } = this;
    const code = err.code ?? '';
    // Nobody is left to answer, and the side did nothing wrong.
    if (res.destroyed && CLIENT_GONE.has(code)) return void (this.state = 'failed');
    if (REFUSED_REQUEST.has(code) && !res.headersSent) {
      this.state = 'failed';
      sendProblem(res, 400, 'UnforwardableRequest', `the proxy cannot forward this request: ${err.message}`);
      return;
    }
    const timedOut = TIMEOUT_CODES.has(code);
    // No connection was ever made for this attempt: nothing of the request reached the instance.
    const refused = isConnectError(err) && attempt.neverConnected && !res.headersSent;
    if (isConnectError(err) && !res.headersSent) {
      this.pool.connectFailed(attempt.instance);
      // Try another instance of the same pool first (once).
      if ((this.replayable || refused) && !this.triedOtherInstance && this.pool.instances.length > 1 && !res.destroyed) {
        this.triedOtherInstance = true;
        if (refused) this.deps.metrics.refusedRetries.labels(this.routeName, this.side, 'other-instance').inc();
        this.send(attempt.instance);
        return;
      }
    }
    if (res.destroyed && !res.headersSent) return void (this.state = 'failed'); // the client went away first
    this.deps.metrics.upstreamErrors.labels(this.routeName, this.side, timedOut ? 'ETIMEDOUT_UPSTREAM' : code || 'error').inc();
    if (!res.headersSent) this.deps.onResult(this.routeName, this.side, performance.now() - this.start, true);
    if (this.fallBack(timedOut ? 'upstream timed out' : code || err.message, refused)) return;
    this.state = 'failed';
    if (res.headersSent) return void res.destroy();
    if (refused) {
      // Every instance tried refused the connection: the service is down, not misbehaving. A 503
      // with Retry-After (about when the health checks may see it back) tells clients to come back.
      this.deps.metrics.observe(this.routeName, this.side, 503, (performance.now() - this.start) / 1000);
      const retryAfter = Math.max(1, Math.ceil(this.pool.config.healthCheck.intervalMs / 1000));
      sendProblem(res, 503, 'UpstreamUnavailable', `no instance of ${this.pool.name} accepts connections (${code})`, { 'retry-after': String(retryAfter) });
      return;
    }
    const status = timedOut ? 504 : 502;
    this.deps.metrics.observe(this.routeName, this.side, status, (performance.now() - this.start) / 1000);
    const detail = timedOut
      ? `upstream ${this.pool.name} did not answer within ${this.deps.table().config.upstreamTimeoutMs} ms`
      : `upstream ${this.pool.name} could not be reached (${code || err.message})`;
    sendProblem(res, status, timedOut ? 'UpstreamTimeout' : 'UpstreamUnreachable', detail);
  }
}

/** Whether the client's connection is TLS (for X-Forwarded-Proto). */
export const isEncrypted = (req: http.IncomingMessage): boolean => (req.socket as Socket & { encrypted?: boolean }).encrypted === true;
