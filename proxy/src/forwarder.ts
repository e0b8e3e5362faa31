// The hot path: picks the route, the side and the instance, and streams the request to it through
// undici's keep-alive pools (see docs/decisions/0007-proxy-hot-path-on-undici.md for why not
// through http-proxy-middleware, which still carries WebSocket upgrades). The body is streamed,
// never parsed; it is buffered only when a replay may be needed (fallback of an Idempotency-Key
// request, or a shadow copy of a request with a body), and then bounded by maxReplayBodyBytes.
// Each attempt is an undici dispatch handler (Attempt) that writes the answer straight to the
// client's response.
import http from 'node:http';
import type { Socket } from 'node:net';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { CompiledRoute, RouteTable } from './route-table.ts';
import type { UpstreamInstance, UpstreamPool } from './upstream-pool.ts';
import { sideFor, stickyKey, clientAddress, type Side } from './side-assignment.ts';
import { applyEdgeHeaders } from './edge-headers.ts';
import { traceRequest, type RequestTrace } from './request-trace.ts';
import { sendProblem } from './problem.ts';
import type { ProxyMetrics } from './metrics.ts';
import type { UpstreamAgents } from './upstream-agents.ts';
import type { RateLimiter, Verdict } from './rate-limit.ts';
import type { JwtVerifier } from './jwt-auth.ts';
import { compareAnswers, type ShadowReport } from './shadow-compare.ts';

const DEFAULT_ROUTE = '(default)';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);
// Not forwarded upstream: hop-by-hop, plus `expect` (this server already answered 100-continue).
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'expect']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
// The client went away (its response closed before the end, so we aborted the upstream request).
const CLIENT_GONE = new Set(['UND_ERR_ABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);
// A request undici refuses to send as it stands (say `OPTIONS *`): the client's fault, not a side's.
const REFUSED_REQUEST = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);
// A 502/503/504 body up to this size is read to the end before retrying on the other side, so its
// connection goes back to the pool; a larger or unsized one is cut off and its connection dropped.
const MAX_DRAIN_BYTES = 64 * 1024;

/**
 * Aborts the upstream request when the client leaves before its answer is complete (nobody would
 * read the rest). One shared listener, so nothing is allocated per request.
 */
function abortUpstreamIfUnfinished(this: http.ServerResponse): void {
  if (!this.writableFinished) (this.req as ProxiedRequest).proxyCtx?.attempt?.abort(clientGone());
}
const clientGone = () => Object.assign(new Error('the client went away'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });

/**
 * One attempt of a request on one instance, as an undici dispatch handler. undici's stream() API
 * (which this replaced) kept ~12 MB of each request's objects alive across young collections at
 * 3,000 req/s, so they were promoted and the collections took 10–50 ms instead of ~1 ms; a plain
 * handler holds nothing past the answer. A new one per attempt, so an attempt that was given up
 * (fallback, retry elsewhere) cannot touch the next.
 */
class Attempt implements Dispatcher.DispatchHandler {
  readonly fw: Forwarder;
  readonly ctx: Ctx;
  controller: Dispatcher.DispatchController | null = null;
  private abortedWith: Error | undefined;
  /** The forwarder has been told how this attempt ended; undici's later word on it is ignored. */
  private settled = false;
  /** Bytes of the answer kept for the shadow comparison. */
  kept = 0;

  constructor(fw: Forwarder, ctx: Ctx) {
    this.fw = fw;
    this.ctx = ctx;
  }

  abort(err: Error): void {
    this.abortedWith = err;
    if (this.controller) this.controller.abort(err);
    // Still queued for a connection (dispatch() offers no way to take it out of undici's queue):
    // settle now, so the instance is released at once rather than when the connection is made or
    // gives up (up to the connect timeout); onRequestStart aborts it when it gets there.
    else this.settle(err);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // The client left while the request waited for a connection.
    if (this.abortedWith) controller.abort(this.abortedWith);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    // 102 Processing, 103 Early Hints: the final answer follows on the same exchange.
    if (statusCode < 200) return;
    this.fw.answerStarted(this.ctx, controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const ctx = this.ctx;
    if (ctx.retrying) return; // a 502/503/504 that will be retried elsewhere: its body is dropped
    if (ctx.primaryChunks) this.kept = keepPrefix(ctx.primaryChunks, this.kept, chunk);
    // undici's flow control: stop reading the upstream until the client has taken what it has.
    if (!ctx.res.write(chunk)) {
      controller.pause();
      ctx.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    if (this.settleOnce()) this.fw.answerEnded(this.ctx);
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    this.settle(err);
  }

  private settle(err: Error): void {
    if (this.settleOnce()) this.fw.answerFailed(this.ctx, err as NodeJS.ErrnoException);
  }

  /** True the first time only: the forwarder hears of each attempt's end once. */
  private settleOnce(): boolean {
    if (this.settled) return false;
    this.settled = true;
    return true;
  }
}
/** Parsed headers as a flat [name, value, ...] list (repeated headers kept), without those in `skip`. */
function flatHeaders(from: Record<string, string | string[] | undefined>, skip: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const name in from) {
    const value = from[name];
    if (value === undefined || skip.has(name)) continue;
    if (typeof value === 'string') out.push(name, value);
    else for (const v of value) out.push(name, v);
  }
  return out;
}
const RETRY_STATUS = new Set([502, 503, 504]);
const PRINTABLE_ASCII = /^[\t\x20-\x7e]+$/;

/**
 * Keeps the first MAX_SHADOW_BODY bytes of an answer for the shadow comparison, cut at exactly that
 * byte: whole chunks would leave prefixes of different lengths on the two sides (their clients
 * split an answer differently), and equal large answers would be reported as differing.
 * Returns the bytes seen so far.
 */
function keepPrefix(chunks: Buffer[], seen: number, chunk: Buffer): number {
  const room = MAX_SHADOW_BODY - seen;
  if (room > 0) chunks.push(room >= chunk.length ? chunk : chunk.subarray(0, room));
  return seen + chunk.length;
}
const MAX_SHADOW_BODY = 1_048_576;

interface Ctx {
  route: CompiledRoute | undefined;
  routeName: string;
  side: Side;
  pool: UpstreamPool;
  other: UpstreamPool | undefined;
  inst: UpstreamInstance;
  released: boolean;
  start: number;
  attempts: number;
  /** Safe to repeat (GET, HEAD, Idempotency-Key) and its body, if any, is small enough to replay. */
  safe: boolean;
  /** Safe, and there is another side to fall back to. */
  retryable: boolean;
  /** Already retried on another instance of the same pool after a connect error. */
  instanceRetried: boolean;
  timedOut: boolean;
  hasBody: boolean;
  /** The answer was a 502/503/504 that will be retried on the other side: its body is dropped. */
  retrying: boolean;
  req: ProxiedRequest;
  res: http.ServerResponse;
  body: Buffer | undefined;
  requestId: string;
  setCookie: string | undefined;
  shadow: Promise<{ status: number; body: string } | Error> | undefined;
  shadowSide: Side | undefined;
  shadowIgnore: readonly string[];
  primaryChunks: Buffer[] | undefined;
  /** The attempt in progress (undefined for WebSocket tunnels). */
  attempt: Attempt | undefined;
  /** Spans of this request, when tracing is exported. */
  trace: RequestTrace | undefined;
}

type ProxiedRequest = http.IncomingMessage & { proxyCtx?: Ctx; trace?: RequestTrace };

export interface ForwarderDeps {
  table(): RouteTable;
  agents: UpstreamAgents;
  metrics: ProxyMetrics;
  limiter: RateLimiter;
  verifier: JwtVerifier;
  shadowReport: ShadowReport;
  log: Logger;
  /** One finished request on a side of a route (the canary listens). */
  onResult(route: string, side: Side, latencyMs: number, isError: boolean): void;
}

// Errors that say the instance is not there (as opposed to a slow or reset answer): they count
// towards taking it out of rotation, like a failed health probe.
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
const isConnectError = (err: NodeJS.ErrnoException) => CONNECT_ERRORS.has(err.code ?? '');

export class Forwarder {
  private readonly hpm: RequestHandler;
  private readonly deps: ForwarderDeps;

  constructor(deps: ForwarderDeps) {
    this.deps = deps;
    // WebSocket upgrades only: a raw tunnel, where http-proxy-middleware's handling is what we want.
    this.hpm = createProxyMiddleware({
      ejectPlugins: true,
      plugins: [(proxy) => proxy.on('error', (_err, _req, socket) => (socket as Socket).destroy())],
      router: (req) => (req as ProxiedRequest).proxyCtx!.inst.url,
      agent: false,
    });
  }

  /** Handles one client request (everything but the proxy's own endpoints). */
  handle(req: ProxiedRequest, res: http.ServerResponse): void {
    const trace = traceRequest(req);
    if (trace) {
      req.trace = trace;
      res.once('close', () => trace.end(res.statusCode));
    }
    const table = this.deps.table();
    const method = req.method ?? 'GET';
    const route = table.match(method, req.url ?? '/');
    const routeConfig = route?.config;
    if (routeConfig?.auth?.required || routeConfig?.rateLimit || table.config.rateLimit) {
      void this.gate(req, res, table, route);
      return;
    }
    this.route(req, res, table, route);
  }

  /** Auth and rate limit, the async part, only for requests that need it. */
  private async gate(req: ProxiedRequest, res: http.ServerResponse, table: RouteTable, route: CompiledRoute | undefined): Promise<void> {
    const rc = route?.config;
    let client = `ip:${clientAddress(req)}`;
    if (rc?.auth?.required) {
      const result = await this.deps.verifier.check(req.headers.authorization, rc.auth.scope);
      if (!result.ok) {
        sendProblem(res, result.status, result.status === 401 ? 'Unauthorized' : 'Forbidden', result.reason, result.status === 401 ? { 'www-authenticate': 'Bearer' } : {});
        return;
      }
      if (result.sub) client = `sub:${result.sub}`;
    }
    const limit = rc?.rateLimit ?? table.config.rateLimit;
    if (limit) {
      const bucket = rc?.rateLimit ? `${rc.name}:${client}` : `*:${client}`;
      const v: Verdict | Promise<Verdict> = this.deps.limiter.take(bucket, limit);
      const verdict = v instanceof Promise ? await v : v;
      if (!verdict.allowed) {
        this.deps.metrics.rateLimited.labels(rc?.name ?? DEFAULT_ROUTE).inc();
        sendProblem(res, 429, 'Too Many Requests', `rate limit of ${limit.capacity} requests, ${limit.refillPerSecond}/s refill`, {
          'retry-after': String(verdict.retryAfterSeconds),
        });
        return;
      }
    }
    this.route(req, res, table, route);
  }

  private route(req: ProxiedRequest, res: http.ServerResponse, table: RouteTable, route: CompiledRoute | undefined): void {
    const rc = route?.config;
    const method = req.method ?? 'GET';
    let side: Side = 'old';
    let setCookie: string | undefined;
    let pool: UpstreamPool;
    let other: UpstreamPool | undefined;
    if (rc) {
      const forced = req.headers[table.config.overrideHeader];
      if (forced === 'old' || forced === 'new') side = forced;
      else if (rc.weight >= 100) side = 'new';
      else if (rc.weight > 0) {
        const sticky = stickyKey(req, table.config.stickyCookie);
        side = sideFor(rc.weight, sticky.key, rc.new);
        if (sticky.newCookie) setCookie = `${table.config.stickyCookie}=${sticky.newCookie}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000`;
      }
      pool = table.pools.get(side === 'new' ? rc.new : rc.old)!;
      other = rc.old === rc.new ? undefined : table.pools.get(side === 'new' ? rc.old : rc.new);
    } else {
      pool = table.pools.get(table.config.defaultPool)!;
    }

    const requestId = applyEdgeHeaders(req, (req.socket as Socket & { encrypted?: boolean }).encrypted === true);
    req.trace?.routed({ route: rc?.name ?? DEFAULT_ROUTE, prefix: rc?.prefix, side, weight: rc?.weight, pool: pool.name, forced: rc !== undefined && (req.headers[table.config.overrideHeader] === 'old' || req.headers[table.config.overrideHeader] === 'new') });
    const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
    const length = Number(req.headers['content-length'] ?? 0);
    const bufferable = !hasBody || (req.headers['content-length'] !== undefined && length <= table.config.maxReplayBodyBytes);
    const safe = method === 'GET' || method === 'HEAD' || req.headers['idempotency-key'] !== undefined;

    const shadowCfg = rc?.shadow;
    const wantShadow =
      other !== undefined && shadowCfg !== undefined && shadowCfg.percent > 0 && bufferable &&
      shadowCfg.methods.includes(method as never) && Math.random() * 100 < shadowCfg.percent;

    const ctx: Ctx = {
      route,
      routeName: rc?.name ?? DEFAULT_ROUTE,
      side,
      pool,
      other,
      inst: pool.instances[0]!,
      released: true,
      start: performance.now(),
      attempts: 0,
      safe: safe && bufferable,
      retryable: other !== undefined && safe && bufferable,
      instanceRetried: false,
      timedOut: false,
      hasBody,
      retrying: false,
      req,
      res,
      body: undefined,
      requestId,
      setCookie,
      shadow: undefined,
      shadowSide: undefined,
      shadowIgnore: shadowCfg?.ignoreFields ?? [],
      primaryChunks: undefined,
      attempt: undefined,
      trace: req.trace,
    };
    req.proxyCtx = ctx;

    const needBody = hasBody && ((ctx.safe && (other !== undefined || pool.instances.length > 1)) || wantShadow);
    if (!needBody) {
      if (wantShadow) this.startShadow(ctx, req);
      this.dispatch(ctx);
      return;
    }
    // Buffer only what may be replayed; everything else streams straight through.
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => {
      ctx.body = Buffer.concat(chunks);
      if (wantShadow) this.startShadow(ctx, req);
      this.dispatch(ctx);
    });
    req.once('error', () => res.destroy());
  }

  private dispatch(ctx: Ctx, avoid?: UpstreamInstance): void {
    ctx.attempts++;
    ctx.timedOut = false;
    ctx.retrying = false;
    ctx.inst = ctx.pool.pick(avoid);
    ctx.inst.inFlight++;
    ctx.released = false;
    const { req } = ctx;
    if (ctx.trace) {
      const traceparent = ctx.trace.attempt(req.method ?? 'GET', ctx.inst.url, ctx.side);
      if (traceparent) req.headers.traceparent = traceparent;
    }
    const headers = flatHeaders(req.headers, NOT_FORWARDED);
    const timeout = this.deps.table().config.upstreamTimeoutMs;
    if (ctx.attempts === 1 && !ctx.instanceRetried) ctx.res.once('close', abortUpstreamIfUnfinished);
    const options: Dispatcher.DispatchOptions & { servername?: string } = {
      origin: ctx.inst.url.origin,
      // TLS names the instance, not the client's Host (which is forwarded as is): one pool of
      // connections per instance whatever hosts the clients use. (undici takes it; its types omit it.)
      servername: ctx.inst.tlsName,
      path: ctx.inst.pathPrefix + (req.url ?? '/'),
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      // A buffered body (replay possible) or the client's stream, never parsed.
      body: ctx.body ?? (ctx.hasBody ? req : null),
      headersTimeout: timeout,
      bodyTimeout: timeout,
    };
    ctx.attempt = new Attempt(this, ctx);
    this.deps.agents.dispatcher.dispatch(options, ctx.attempt);
  }

  private release(ctx: Ctx | undefined): void {
    if (ctx && !ctx.released) {
      ctx.released = true;
      ctx.inst.inFlight--;
    }
  }

  private fallback(ctx: Ctx, why: string): boolean {
    const { res } = ctx;
    if (!ctx.retryable || ctx.attempts > 1 || !ctx.other || res.headersSent || res.destroyed) return false;
    const from = ctx.side;
    const to: Side = from === 'new' ? 'old' : 'new';
    this.deps.metrics.fallbacks.labels(ctx.routeName, from, to).inc();
    this.deps.log.warn({ requestId: ctx.requestId, route: ctx.routeName, from, to, why }, 'falling back to the other side');
    const failed = ctx.pool;
    ctx.pool = ctx.other;
    ctx.other = failed;
    ctx.side = to;
    ctx.trace?.fellBack(from, to, ctx.pool.name, why);
    ctx.body ??= Buffer.alloc(0);
    this.dispatch(ctx);
    return true;
  }

  /** The upstream's status and headers are in (called by Attempt). */
  answerStarted(ctx: Ctx, controller: Dispatcher.DispatchController, status: number, upstream: Record<string, string | string[] | undefined>, statusMessage: string | undefined): void {
    ctx.trace?.attemptAnswered(status);
    if (RETRY_STATUS.has(status) && ctx.retryable && ctx.attempts === 1 && !ctx.res.destroyed) {
      // Read to the end (so the connection goes back to the pool), then retried on the other side.
      this.deps.metrics.upstreamErrors.labels(ctx.routeName, ctx.side, String(status)).inc();
      this.deps.onResult(ctx.routeName, ctx.side, performance.now() - ctx.start, true);
      ctx.retrying = true;
      const length = Number(upstream['content-length'] ?? Number.NaN);
      if (!(length <= MAX_DRAIN_BYTES)) controller.abort(new Error('not draining a large error answer'));
      return;
    }
    const headers = flatHeaders(upstream, HOP_BY_HOP);
    if (upstream['x-request-id'] === undefined) headers.push('x-request-id', ctx.requestId);
    if (ctx.setCookie) headers.push('set-cookie', ctx.setCookie);
    // The upstream's reason phrase goes through as well, when it survives the trip: undici decodes it
    // as UTF-8, so a byte outside ASCII (allowed in HTTP) arrives as U+FFFD, which Node refuses to
    // write. Then, or when there is none, Node's standard phrase for the status.
    ctx.res.writeHead(status, statusMessage && PRINTABLE_ASCII.test(statusMessage) ? statusMessage : undefined, headers);
    // Keep a copy of the primary answer (bounded) to compare with the shadow's.
    if (ctx.shadow) ctx.primaryChunks = [];
  }

  /** The whole answer is in (called by Attempt). */
  answerEnded(ctx: Ctx): void {
    this.release(ctx);
    ctx.trace?.attemptEnded();
    // A 502/503/504 already counted against this side: try the other.
    if (ctx.retrying) return this.retry(ctx);
    ctx.res.end();
    this.finish(ctx);
  }

  /** The attempt failed: no connection, a timeout, a reset, or an abort (called by Attempt). */
  answerFailed(ctx: Ctx, err: NodeJS.ErrnoException): void {
    this.release(ctx);
    ctx.trace?.attemptFailed(err);
    // A 502/503/504 already counted against this side, whatever became of its body: try the other.
    if (ctx.retrying) return this.retry(ctx);
    this.onError(err, ctx);
  }

  private retry(ctx: Ctx): void {
    if (!this.fallback(ctx, 'status retried')) this.onError(Object.assign(new Error('the other side could not be tried'), { code: 'ENOFALLBACK' }), ctx);
  }

  private finish(ctx: Ctx): void {
    const status = ctx.res.statusCode;
    const ms = performance.now() - ctx.start;
    this.deps.metrics.observe(ctx.routeName, ctx.side, status, ms / 1000);
    this.deps.onResult(ctx.routeName, ctx.side, ms, status >= 500);
    if (ctx.shadow) this.compareShadow(ctx, ctx.req, status);
  }

  private onError(err: NodeJS.ErrnoException, ctx: Ctx): void {
    const { res } = ctx;
    // Nobody is left to answer, and the side did nothing wrong.
    if (res.destroyed && CLIENT_GONE.has(err.code ?? '')) return;
    if (REFUSED_REQUEST.has(err.code ?? '') && !res.headersSent) {
      sendProblem(res, 400, 'Bad Request', `the proxy cannot forward this request: ${err.message}`, { 'x-request-id': ctx.requestId });
      return;
    }
    if (TIMEOUT_CODES.has(err.code ?? '')) ctx.timedOut = true;
    const connectError = isConnectError(err) && !res.headersSent;
    if (connectError) {
      ctx.pool.connectFailed(ctx.inst);
      // Nothing reached that instance: try another one of the same pool first (once).
      if (ctx.safe && !ctx.instanceRetried && ctx.pool.instances.length > 1 && !res.destroyed) {
        ctx.instanceRetried = true;
        ctx.attempts--;
        ctx.body ??= Buffer.alloc(0);
        this.dispatch(ctx, ctx.inst);
        return;
      }
    }
    if (res.destroyed && !res.headersSent) return; // the client went away first: nobody to answer
    this.deps.metrics.upstreamErrors.labels(ctx.routeName, ctx.side, ctx.timedOut ? 'ETIMEDOUT_UPSTREAM' : (err.code ?? 'error')).inc();
    if (!res.headersSent) this.deps.onResult(ctx.routeName, ctx.side, performance.now() - ctx.start, true);
    if (this.fallback(ctx, ctx.timedOut ? 'upstream timed out' : (err.code ?? err.message))) return;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const status = ctx.timedOut ? 504 : 502;
    this.deps.metrics.observe(ctx.routeName, ctx.side, status, (performance.now() - ctx.start) / 1000);
    const detail = ctx.timedOut
      ? `upstream ${ctx.pool.name} did not answer within ${this.deps.table().config.upstreamTimeoutMs} ms`
      : `upstream ${ctx.pool.name} could not be reached (${err.code ?? err.message})`;
    sendProblem(res, status, status === 504 ? 'Gateway Timeout' : 'Bad Gateway', detail, { 'x-request-id': ctx.requestId });
  }

  /** WebSocket upgrades: same route and side choice, then a raw tunnel through httpxy. */
  upgrade(req: ProxiedRequest, socket: Socket, head: Buffer): void {
    const table = this.deps.table();
    const route = table.match('GET', req.url ?? '/');
    const rc = route?.config;
    // A route that checks tokens checks them on upgrades too, or a WebSocket would walk around it.
    if (rc?.auth?.required) {
      void this.deps.verifier.check(req.headers.authorization, rc.auth.scope).then((result) => {
        if (result.ok) this.tunnel(req, socket, head, table, route);
        else {
          socket.end(`HTTP/1.1 ${result.status} ${result.status === 401 ? 'Unauthorized' : 'Forbidden'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
        }
      });
      return;
    }
    this.tunnel(req, socket, head, table, route);
  }

  private tunnel(req: ProxiedRequest, socket: Socket, head: Buffer, table: RouteTable, route: CompiledRoute | undefined): void {
    const rc = route?.config;
    let side: Side = 'old';
    if (rc) {
      const forced = req.headers[table.config.overrideHeader];
      side = forced === 'old' || forced === 'new' ? forced : sideFor(rc.weight, stickyKey(req, table.config.stickyCookie).key, rc.new);
    }
    const pool = table.pools.get(rc ? (side === 'new' ? rc.new : rc.old) : table.config.defaultPool)!;
    const requestId = applyEdgeHeaders(req, false);
    req.proxyCtx = {
      route, routeName: rc?.name ?? DEFAULT_ROUTE, side, pool, other: undefined, inst: pool.pick(), released: true,
      start: performance.now(), attempts: 1, safe: false, retryable: false, instanceRetried: false, timedOut: false,
      hasBody: false, retrying: false, req, res: undefined as unknown as http.ServerResponse,
      body: undefined, requestId, setCookie: undefined,
      shadow: undefined, shadowSide: undefined, shadowIgnore: [], primaryChunks: undefined, attempt: undefined, trace: undefined,
    };
    this.hpm.upgrade(req, socket, head);
  }

  private startShadow(ctx: Ctx, req: ProxiedRequest): void {
    const pool = ctx.other!;
    const inst = pool.pick();
    ctx.shadowSide = ctx.side === 'new' ? 'old' : 'new';
    const headers = { ...req.headers, 'x-proxy-shadow': '1' };
    delete headers.connection;
    ctx.shadow = new Promise((resolve) => {
      const out = this.deps.agents.request(
        new URL(req.url ?? '/', inst.url),
        { method: req.method, headers, timeout: this.deps.table().config.upstreamTimeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => (size = keepPrefix(chunks, size, c)));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (e) => resolve(e));
        },
      );
      out.on('timeout', () => out.destroy(new Error('shadow request timed out')));
      out.on('error', (e) => resolve(e));
      out.end(ctx.body);
    });
  }

  private compareShadow(ctx: Ctx, req: ProxiedRequest, status: number): void {
    // After a fallback the primary answer came from the shadow's side: nothing to compare.
    if (ctx.side === ctx.shadowSide) return;
    const primary = { status, body: Buffer.concat(ctx.primaryChunks ?? []).toString('utf8') };
    const { routeName, side, shadowSide } = ctx;
    void ctx.shadow!.then((shadow) => {
      const { metrics, shadowReport } = this.deps;
      if (shadow instanceof Error) {
        metrics.shadow.labels(routeName, 'error').inc();
        shadowReport.recordError(routeName);
        return;
      }
      const cmp = compareAnswers(primary, shadow, ctx.shadowIgnore);
      metrics.shadow.labels(routeName, cmp.match ? 'match' : 'mismatch').inc();
      shadowReport.record(
        routeName,
        cmp.match,
        cmp.match
          ? undefined
          : {
              at: new Date().toISOString(),
              route: routeName,
              method: req.method ?? 'GET',
              url: req.url ?? '/',
              reason: cmp.reason ?? 'differs',
              primary: { side, ...primary },
              shadow: { side: shadowSide ?? '?', ...shadow },
            },
      );
    });
  }
}
