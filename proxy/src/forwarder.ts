// The hot path: picks the route, the side and the instance, and hands the request to
// http-proxy-middleware (httpxy underneath) with a keep-alive agent. The body is streamed, never
// parsed; it is buffered only when a replay may be needed (fallback of an Idempotency-Key request,
// or a shadow copy of a request with a body), and then bounded by maxReplayBodyBytes.
import http from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import type { Logger } from 'pino';
import type { CompiledRoute, RouteTable } from './route-table.ts';
import type { UpstreamInstance, UpstreamPool } from './upstream-pool.ts';
import { sideFor, stickyKey, clientAddress, type Side } from './side-assignment.ts';
import { applyEdgeHeaders } from './edge-headers.ts';
import { sendProblem } from './problem.ts';
import type { ProxyMetrics } from './metrics.ts';
import type { UpstreamAgents } from './upstream-agents.ts';
import type { RateLimiter, Verdict } from './rate-limit.ts';
import type { JwtVerifier } from './jwt-auth.ts';
import { compareAnswers, type ShadowReport } from './shadow-compare.ts';

const DEFAULT_ROUTE = '(default)';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);
const RETRY_STATUS = new Set([502, 503, 504]);
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
  body: Buffer | undefined;
  requestId: string;
  setCookie: string | undefined;
  shadow: Promise<{ status: number; body: string } | Error> | undefined;
  shadowSide: Side | undefined;
  shadowIgnore: readonly string[];
  primaryChunks: Buffer[] | undefined;
}

type ProxiedRequest = http.IncomingMessage & { proxyCtx?: Ctx };

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
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);
const isConnectError = (err: NodeJS.ErrnoException) => CONNECT_ERRORS.has(err.code ?? '');

export class Forwarder {
  private readonly hpm: RequestHandler;
  private readonly deps: ForwarderDeps;

  constructor(deps: ForwarderDeps) {
    this.deps = deps;
    const { table } = deps;
    this.hpm = createProxyMiddleware({
      // Our own plugin wires the events; the default plugins (console logging, generic error page)
      // would answer errors before we could fall back to the other side.
      ejectPlugins: true,
      plugins: [
        (proxy) => {
          proxy.on('proxyRes', (proxyRes, req, res) => this.onResponse(proxyRes, req as ProxiedRequest, res as http.ServerResponse));
          proxy.on('error', (err, req, res) => this.onError(err as NodeJS.ErrnoException, req as ProxiedRequest | undefined, res));
          proxy.on('econnreset', (_err, req) => this.release(req as ProxiedRequest));
          // Our own upstream timeout (not httpxy's proxyTimeout) so a timeout is told apart from a
          // reset: it answers 504 and, for a safe request, falls back like an unreachable side.
          proxy.on('proxyReq', (proxyReq, req) => {
            const ctx = (req as ProxiedRequest).proxyCtx;
            if (!ctx) return;
            proxyReq.setTimeout(table().config.upstreamTimeoutMs, () => {
              ctx.timedOut = true;
              proxyReq.destroy(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT_UPSTREAM' }));
            });
          });
        },
      ],
      selfHandleResponse: true,
      agent: deps.agents.http,
      router: (req, res, options) => {
        const ctx = (req as ProxiedRequest).proxyCtx!;
        if (ctx.body) options.buffer = Readable.from([ctx.body], { objectMode: false });
        // Upgraded sockets leave the pool for good; a fresh connection keeps the agent's accounting clean.
        if (!res) options.agent = false;
        else if (ctx.inst.url.protocol === 'https:') options.agent = deps.agents.https;
        return ctx.inst.url;
      },
    });
  }

  /** Handles one client request (everything but the proxy's own endpoints). */
  handle(req: ProxiedRequest, res: http.ServerResponse): void {
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
      body: undefined,
      requestId,
      setCookie,
      shadow: undefined,
      shadowSide: undefined,
      shadowIgnore: shadowCfg?.ignoreFields ?? [],
      primaryChunks: undefined,
    };
    req.proxyCtx = ctx;

    const needBody = hasBody && ((ctx.safe && (other !== undefined || pool.instances.length > 1)) || wantShadow);
    if (!needBody) {
      if (wantShadow) this.startShadow(ctx, req);
      this.dispatch(ctx, req, res);
      return;
    }
    // Buffer only what may be replayed; everything else streams straight through.
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => {
      ctx.body = Buffer.concat(chunks);
      if (wantShadow) this.startShadow(ctx, req);
      this.dispatch(ctx, req, res);
    });
    req.once('error', () => res.destroy());
  }

  private dispatch(ctx: Ctx, req: ProxiedRequest, res: http.ServerResponse, avoid?: UpstreamInstance): void {
    ctx.attempts++;
    ctx.timedOut = false;
    ctx.inst = ctx.pool.pick(avoid);
    ctx.inst.inFlight++;
    ctx.released = false;
    void this.hpm(req, res);
  }

  private release(req: ProxiedRequest | undefined): void {
    const ctx = req?.proxyCtx;
    if (ctx && !ctx.released) {
      ctx.released = true;
      ctx.inst.inFlight--;
    }
  }

  private fallback(ctx: Ctx, req: ProxiedRequest, res: http.ServerResponse, why: string): boolean {
    if (!ctx.retryable || ctx.attempts > 1 || !ctx.other || res.headersSent || res.destroyed) return false;
    const from = ctx.side;
    const to: Side = from === 'new' ? 'old' : 'new';
    this.deps.metrics.fallbacks.labels(ctx.routeName, from, to).inc();
    this.deps.log.warn({ requestId: ctx.requestId, route: ctx.routeName, from, to, why }, 'falling back to the other side');
    const failed = ctx.pool;
    ctx.pool = ctx.other;
    ctx.other = failed;
    ctx.side = to;
    ctx.body ??= Buffer.alloc(0);
    this.dispatch(ctx, req, res);
    return true;
  }

  private onResponse(proxyRes: http.IncomingMessage, req: ProxiedRequest, res: http.ServerResponse): void {
    const ctx = req.proxyCtx!;
    const status = proxyRes.statusCode ?? 502;
    if (RETRY_STATUS.has(status) && ctx.retryable && ctx.attempts === 1) {
      this.deps.metrics.upstreamErrors.labels(ctx.routeName, ctx.side, String(status)).inc();
      this.deps.onResult(ctx.routeName, ctx.side, performance.now() - ctx.start, true);
      proxyRes.resume();
      this.release(req);
      if (this.fallback(ctx, req, res, `status ${status}`)) return;
    }

    const raw = proxyRes.rawHeaders;
    const headers: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) headers.push(raw[i]!, raw[i + 1]!);
    }
    if (proxyRes.headers['x-request-id'] === undefined) headers.push('x-request-id', ctx.requestId);
    if (ctx.setCookie) headers.push('set-cookie', ctx.setCookie);
    res.writeHead(status, proxyRes.statusMessage, headers);

    if (ctx.shadow) {
      const chunks: Buffer[] = (ctx.primaryChunks = []);
      let size = 0;
      proxyRes.on('data', (c: Buffer) => {
        if ((size += c.length) <= MAX_SHADOW_BODY) chunks.push(c);
      });
    }
    proxyRes.once('end', () => this.finish(ctx, req, status));
    proxyRes.once('close', () => this.release(req));
    proxyRes.pipe(res);
  }

  private finish(ctx: Ctx, req: ProxiedRequest, status: number): void {
    this.release(req);
    const ms = performance.now() - ctx.start;
    this.deps.metrics.observe(ctx.routeName, ctx.side, status, ms / 1000);
    this.deps.onResult(ctx.routeName, ctx.side, ms, status >= 500);
    if (ctx.shadow) this.compareShadow(ctx, req, status);
  }

  private onError(err: NodeJS.ErrnoException, req: ProxiedRequest | undefined, res: http.ServerResponse | Socket | undefined): void {
    if (!req || !res) return;
    if (!(res instanceof http.ServerResponse)) {
      (res as Socket).destroy();
      return;
    }
    const ctx = req.proxyCtx;
    if (!ctx) {
      sendProblem(res, 502, 'Bad Gateway', err.message);
      return;
    }
    this.release(req);
    const connectError = isConnectError(err) && !res.headersSent;
    if (connectError) {
      ctx.pool.connectFailed(ctx.inst);
      // Nothing reached that instance: try another one of the same pool first (once).
      if (ctx.safe && !ctx.instanceRetried && ctx.pool.instances.length > 1 && !res.destroyed) {
        ctx.instanceRetried = true;
        ctx.attempts--;
        ctx.body ??= Buffer.alloc(0);
        this.dispatch(ctx, req, res, ctx.inst);
        return;
      }
    }
    this.deps.metrics.upstreamErrors.labels(ctx.routeName, ctx.side, err.code ?? 'error').inc();
    if (!res.headersSent) this.deps.onResult(ctx.routeName, ctx.side, performance.now() - ctx.start, true);
    if (this.fallback(ctx, req, res, err.code ?? err.message)) return;
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
      body: undefined, requestId, setCookie: undefined,
      shadow: undefined, shadowSide: undefined, shadowIgnore: [], primaryChunks: undefined,
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
          res.on('data', (c: Buffer) => {
            if ((size += c.length) <= MAX_SHADOW_BODY) chunks.push(c);
          });
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
