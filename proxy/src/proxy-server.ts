// One proxy process: its parts put together and listening on two ports. The public port forwards
// (and answers its own probes); the internal port serves the admin API, /metrics and the probes,
// and is meant for operators and scrapers only, never an ingress. The config (live-config.ts), the
// forwarding pipeline (forwarder.ts), the canary, the admin API and the probes are each in their
// own file; this one wires them and owns the servers' lifetime. `startProxy` is what main.ts, the
// tests and the bench call.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pino, type Logger } from 'pino';
import { createTokenVerifier, type VerifierOptions } from '../../lib/trust/index.ts';
import type { ProxyConfig } from './config-schema.ts';
import { UpstreamAgents } from './upstream-agents.ts';
import { Forwarder } from './forwarder.ts';
import { WebSocketTunnels } from './websocket-tunnel.ts';
import { Gate } from './gate.ts';
import { ProxyMetrics } from './metrics.ts';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter } from './rate-limit.ts';
import { ShadowReport } from './shadow-compare.ts';
import { CanaryController } from './canary-controller.ts';
import { LiveConfig, readConfigFile } from './live-config.ts';
import { SharedTable } from './shared-table.ts';
import { SharedCanary } from './shared-canary.ts';
import { adminActions } from './admin-actions.ts';
import { ADMIN_PREFIX, handleAdmin } from './admin-api.ts';
import { answerMetrics, answerProbe } from './own-endpoints.ts';
import { classifyPublicPath } from './public-paths.ts';
import { createAccessLog, type AccessLogLevel, type TimedRequest } from './access-log.ts';
import { answerClientError, refuseConnect, sendJson, sendProblem } from './problem.ts';
import { routedDocument } from './openapi-merge.ts';
import type { Side } from './side-assignment.ts';
import type { CanaryCommand } from './canary-controller.ts';
import { MigrationConsole, type ConsoleOptions } from './console/migration-console.ts';
import { isConsolePage, loadConsoleAssets, serveConsolePage } from './console/console-page.ts';

export interface ProxyOptions {
  configPath: string;
  /** Public port (0: any free one). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Admin API, /metrics, probes. Default port + 1000, or any free one when `port` is 0. */
  internalPort?: number;
  /** Default `host`. */
  internalHost?: string;
  /** How end-user tokens are checked (HS256 secret or JWKS, issuer, audience, lifetime). */
  tokens: VerifierOptions;
  /**
   * Set → rate-limit buckets live in Redis, and (unless `shareTable` is false) the live table too:
   * weights, the canary and shadow and fallback figures, shared by every proxy using the same prefix.
   */
  redisUrl?: string;
  shareTable?: boolean;
  redisPrefix?: string;
  logger?: Logger;
  watchIntervalMs?: number;
  /** Off in the bench: probes would add noise; on by default. */
  healthChecks?: boolean;
  /**
   * In a cluster worker the canary runs in the primary: results go out through `reportResult` and
   * canary state comes back through `canaryState`. Unset → the canary runs in this process.
   */
  reportResult?: (route: string, side: Side, latencyMs: number, isError: boolean) => void;
  canaryState?: () => unknown;
  canaryCommand?: (cmd: CanaryCommand) => void;
  /** Grace period for requests in flight at close (default 10 s). */
  drainMs?: number;
  /** Called after this process wrote a weight to the file (a cluster worker tells its siblings). */
  onWeightPersisted?: () => void;
  /** One line per request at this level (default off); `accessLogger` writes them elsewhere (tests). */
  accessLog?: AccessLogLevel;
  accessLogger?: Logger;
  /** The migration console on the internal listener (/_proxy/console): topology file, trace links, audit file. */
  console?: ConsoleOptions;
}

export interface RunningProxy {
  port: number;
  /** The public listener: forwarded traffic and probes. */
  url: string;
  internalPort: number;
  /** The internal listener: admin API, /metrics, probes. */
  internalUrl: string;
  config(): ProxyConfig;
  metrics: ProxyMetrics;
  canary: CanaryController;
  /** Applies a route weight now and persists it to the config file. */
  setWeight(route: string, weight: number): void;
  /** Re-reads the config file now instead of waiting for the watcher. */
  reload(): void;
  close(): Promise<void>;
}

export async function startProxy(opts: ProxyOptions): Promise<RunningProxy> {
  const log = opts.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const metrics = new ProxyMetrics();
  const inCluster = opts.reportResult !== undefined;
  // Throws a ConfigError naming the line/column or field: main.ts prints it and exits.
  const first = readConfigFile(opts.configPath);
  const agents = new UpstreamAgents(first.config.connectTimeoutMs);
  // With Redis, every proxy process sharing the prefix shares the live table (shared-table.ts).
  const shared = opts.redisUrl && opts.shareTable !== false ? new SharedTable(opts.redisUrl, opts.redisPrefix ?? 'proxy:rl:', log) : undefined;
  const canary = new CanaryController(
    {
      setWeight: (route, weight) => live.persistWeight(route, weight),
      onEvent: (route, e) => log.info({ route, ...e }, `canary ${e.event}`),
      onFailure: (route, message) => log.error({ route }, message),
    },
    // In a cluster worker the primary runs the canary, with a shared table the lease holder does
    // (driven by SharedCanary): this controller never ticks on its own then.
    inCluster || shared ? 0 : 100,
  );
  const live = new LiveConfig({
    path: opts.configPath,
    first,
    agents,
    metrics,
    log,
    healthChecks: opts.healthChecks !== false,
    watchIntervalMs: opts.watchIntervalMs ?? 200,
    onApplied: (config) => {
      for (const r of config.routes) metrics.canaryState.labels(r.name).set(canary.stateCode(r.name));
      for (const name of Object.keys(canary.snapshot())) {
        const rc = config.routes.find((r) => r.name === name);
        if (!rc) canary.abort(name, 'route removed from config');
        else if (rc.old === undefined) canary.abort(name, 'the route has no old side any more');
      }
    },
    onWeightPersisted: opts.onWeightPersisted,
    onWeightsChanged: (weights) => void shared?.publishWeights(weights).catch((err: Error) => log.error({ err: err.message }, 'weights not shared')),
  });
  live.start();
  const sharedCanary = shared ? new SharedCanary(shared, canary, () => live.table(), log) : undefined;
  if (shared && sharedCanary) {
    live.applyShared(
      await shared.start({
        onWeights: (weights) => live.applyShared(weights),
        onCanaryCommand: (cmd) => sharedCanary.apply(cmd),
        onLease: (held) => void sharedCanary.onLease(held),
      }),
    );
    sharedCanary.start();
  } else if (!inCluster) for (const r of first.config.routes) if (r.canary?.autoStart) canary.start(r.name, r.canary);

  const limiter: RateLimiter = opts.redisUrl
    ? new RedisRateLimiter(opts.redisUrl, opts.redisPrefix ?? 'proxy:rl:', (err) => log.error({ err: err.message }, 'rate limit store error'))
    : new MemoryRateLimiter();
  const shadowReport = new ShadowReport(20, shared ? (route, outcome, diff) => shared.recordShadow(route, outcome, diff) : undefined);
  const fallbackCounts = new Map<string, number>();
  const recordFallback = (route: string, from: Side, to: Side) => {
    if (shared) return shared.recordFallback(route, from, to);
    const key = `${route} ${from}→${to}`;
    fallbackCounts.set(key, (fallbackCounts.get(key) ?? 0) + 1);
  };
  const fallbacks = () => {
    const out: Record<string, Record<string, number>> = {};
    for (const [key, n] of fallbackCounts) {
      const [route, move] = key.split(' ');
      (out[route!] ??= {})[move!] = n;
    }
    return out;
  };
  const table = () => live.table();
  const gate = new Gate(createTokenVerifier(opts.tokens), limiter, metrics);
  const clusterCanary = sharedCanary ?? (inCluster ? { state: () => opts.canaryState?.() ?? {}, command: (cmd: CanaryCommand) => opts.canaryCommand?.(cmd) } : undefined);
  const sharedFigures = shared && { id: shared.id, shadow: (routes: string[]) => shared.shadowSnapshot(routes), fallbacks: () => shared.fallbackCounts(), leaseHolder: () => shared.leaseHolder() };
  const actions = adminActions(live, canary, shadowReport, fallbacks, clusterCanary, sharedFigures || undefined);
  const migrationConsole = new MigrationConsole({ configPath: opts.configPath, redisUrl: opts.redisUrl, redisPrefix: opts.redisPrefix ?? 'proxy:rl:', log, options: opts.console ?? {}, live, actions });
  const consoleAssets = loadConsoleAssets();
  const traffic = migrationConsole.traffic;
  const judge = sharedCanary ? (route: string, side: Side, ms: number, isError: boolean) => sharedCanary.report(route, side, ms, isError) : (opts.reportResult ?? ((route: string, side: Side, ms: number, isError: boolean) => canary.record(route, side, ms, isError)));
  const forwarder = new Forwarder(
    {
      table,
      agents,
      metrics,
      shadowReport,
      log,
      recordFallback,
      onResult: (route, side, ms, isError) => {
        traffic.record(route, side, isError);
        judge(route, side, ms, isError);
      },
    },
    gate,
  );
  const tunnels = new WebSocketTunnels(table, gate);
  const adminContext = { gate, actions, log, audit: migrationConsole.audit, proxyId: shared?.id ?? `pid ${process.pid}`, console: migrationConsole };
  /** The last word on anything that escaped a handler: logged, answered, the process keeps serving. */
  const failed = (res: http.ServerResponse) => (err: unknown) => {
    log.error({ err, url: res.req.url }, 'request failed');
    sendProblem(res, 500, 'InternalError', 'the proxy could not handle this request');
  };

  // The proxy documents what it routes (openapi-merge.ts): its pools' documents, merged by route.
  const answerRoutedDocument = (res: http.ServerResponse) => {
    routedDocument(table()).then(
      (doc) => (doc ? sendJson(res, 200, doc) : sendProblem(res, 502, 'UpstreamUnreachable', 'no pool answered its /openapi.json')),
      () => sendProblem(res, 502, 'UpstreamUnreachable', 'the routed document could not be assembled'),
    );
  };

  const accessLog = createAccessLog(opts.accessLog ?? 'off', log.level, opts.accessLogger);
  // A forwarded request gets one 'finish' listener doing both the access log line and the console's
  // failure list, rather than one each; the proxy's own answers get the access log's alone.
  const failuresOnFinish = migrationConsole.failures.onFinish;
  const forwardedOnFinish = accessLog
    ? function (this: http.ServerResponse) {
        accessLog.onFinish.call(this);
        failuresOnFinish.call(this);
      }
    : failuresOnFinish;
  let draining = false;
  const publicServer = http.createServer((req, res) => {
    if (accessLog) (req as TimedRequest).receivedAt = performance.now();
    try {
      const path = classifyPublicPath(req.url ?? '/');
      if (path.kind === 'forward') {
        if (req.url === '/openapi.json' && req.method === 'GET') {
          if (accessLog) res.on('finish', accessLog.onFinish);
          return answerRoutedDocument(res);
        }
        res.on('finish', forwardedOnFinish);
        return forwarder.handle(req, res);
      }
      if (accessLog) res.on('finish', accessLog.onFinish);
      if (path.kind === 'health') return answerProbe(res, req.method, path.probe, draining);
      if (path.kind === 'malformed') return sendProblem(res, 400, 'MalformedPath', path.reason);
      // Contract endpoints, metrics and admin routes live on internal listeners only.
      sendProblem(res, 404, 'RouteNotFound', 'no such route on the public port');
    } catch (err) {
      // Thrown before a listener was attached: the 500 is logged all the same.
      if (accessLog && !res.listeners('finish').some((l) => l === accessLog.onFinish || l === forwardedOnFinish)) res.on('finish', accessLog.onFinish);
      failed(res)(err);
    }
  });
  publicServer.on('upgrade', (req, socket: Socket, head) => {
    const path = classifyPublicPath(req.url ?? '/');
    if (path.kind === 'forward') return tunnels.upgrade(req, socket, head);
    socket.end(`HTTP/1.1 ${path.kind === 'malformed' ? '400 Bad Request' : '404 Not Found'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });

  const internalServer = http.createServer((req, res) => {
    try {
      const url = req.url ?? '/';
      if (isConsolePage(url)) return serveConsolePage(req, res, consoleAssets);
      if (url.startsWith(ADMIN_PREFIX)) return void handleAdmin(req, res, adminContext).catch(failed(res));
      if (req.method === 'GET' && (url === '/metrics' || url.startsWith('/metrics?'))) {
        return void answerMetrics(res, metrics, table().config, shadowReport, canary).catch(failed(res));
      }
      const path = classifyPublicPath(url);
      if (path.kind === 'health') return answerProbe(res, req.method, path.probe, draining);
      if (path.kind === 'malformed') return sendProblem(res, 400, 'MalformedPath', path.reason);
      sendProblem(res, 404, 'RouteNotFound', `the internal port serves ${ADMIN_PREFIX}*, /metrics and /health/*`);
    } catch (err) {
      failed(res)(err);
    }
  });

  for (const server of [publicServer, internalServer]) {
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    server.on('clientError', answerClientError);
    server.on('connect', refuseConnect);
  }
  const host = opts.host ?? '127.0.0.1';
  const port = await listen(publicServer, opts.port ?? 8080, host);
  const internalPort = await listen(internalServer, opts.internalPort ?? (port === 0 || opts.port === 0 ? 0 : port + 1000), opts.internalHost ?? host).catch(async (err) => {
    await new Promise((resolve) => publicServer.close(resolve));
    await migrationConsole.close();
    throw err;
  });
  log.info({ port, internalPort, config: opts.configPath }, 'proxy listening');

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    internalPort,
    internalUrl: `http://127.0.0.1:${internalPort}`,
    config: () => table().config,
    metrics,
    canary,
    // Code calling the proxy directly (tests, scripts) is not an operator at the console: no confirmation.
    setWeight: (route, weight) => void actions.setWeight(route, weight, { confirmed: true }),
    reload: () => live.reload(),
    async close() {
      draining = true;
      live.stop();
      canary.stop();
      sharedCanary?.stop();
      const graceMs = opts.drainMs ?? 10_000;
      // A server's close waits for its upgraded sockets too, which closeAllConnections() does not
      // reach: the tunnels end with the grace, as requests still in flight do.
      const tunnelsEnd = setTimeout(() => tunnels.closeAll(), graceMs);
      tunnelsEnd.unref();
      await Promise.all([publicServer, internalServer].map((server) => drain(server, graceMs)));
      clearTimeout(tunnelsEnd);
      agents.destroy();
      await limiter.close();
      await migrationConsole.close();
      await shared?.close();
      accessLog?.flush();
    },
  };
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Closes a server: idle connections now, requests in flight after a grace period (its tunnels are closed by the caller). */
function drain(server: http.Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), graceMs).unref();
  });
}
