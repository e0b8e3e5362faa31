// One proxy process: loads and watches the config, serves its own probes, metrics and admin API,
// and forwards everything else. `startProxy` is what main.ts, the tests and the bench call.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { parseConfigText, readRawConfig, writeConfig, readConfig } from './config-file.ts';
import { setWeight as editWeight } from './config-edit.ts';
import type { ProxyConfig } from './config-schema.ts';
import { RouteTable } from './route-table.ts';
import { UpstreamAgents } from './upstream-agents.ts';
import { Forwarder } from './forwarder.ts';
import { ProxyMetrics } from './metrics.ts';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter } from './rate-limit.ts';
import { JwtVerifier } from './jwt-auth.ts';
import { ShadowReport } from './shadow-compare.ts';
import { CanaryController } from './canary-controller.ts';
import { watchConfig } from './config-watcher.ts';
import { ADMIN_PREFIX, handleAdmin } from './admin-api.ts';
import { sendJson, sendProblem } from './problem.ts';
import type { Side } from './side-assignment.ts';
import { routedDocument } from './openapi-merge.ts';

export interface ProxyOptions {
  configPath: string;
  port?: number;
  host?: string;
  jwtSecret: string;
  /** Set → rate-limit buckets live in Redis, shared by every proxy using the same prefix. */
  redisUrl?: string;
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
  canaryCommand?: (cmd: { op: 'start' | 'abort'; route: string }) => void;
  /** Grace period for requests in flight at close (default 10 s). */
  drainMs?: number;
  /** Called after this process wrote a weight to the file (a cluster worker tells its siblings). */
  onWeightPersisted?: () => void;
}

export interface RunningProxy {
  port: number;
  url: string;
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
  // Throws a ConfigError naming the line/column or field: main.ts prints it and exits.
  let table!: RouteTable;
  let lastText = readFileSync(opts.configPath, 'utf8');
  const initial = parseConfigText(lastText, opts.configPath);
  const metrics = new ProxyMetrics();
  const agents = new UpstreamAgents(initial.connectTimeoutMs);
  const poolEvents = {
    onEjected: (pool: string, instance: string) => {
      metrics.instanceHealthy.labels(pool, instance).set(0);
      log.warn({ pool, instance }, 'instance taken out of rotation');
    },
    onReadmitted: (pool: string, instance: string) => {
      metrics.instanceHealthy.labels(pool, instance).set(1);
      log.info({ pool, instance }, 'instance back in rotation');
    },
  };
  const healthChecks = opts.healthChecks !== false;

  const canary = new CanaryController({
    setWeight: (route, weight) => persistWeight(route, weight),
    onEvent: (route, e) => log.info({ route, ...e }, `canary ${e.event}`),
  }, opts.reportResult ? 0 : 100);

  const apply = (config: ProxyConfig) => {
    agents.setConnectTimeout(config.connectTimeoutMs);
    const next = new RouteTable(config, agents, poolEvents, table);
    const previous = table;
    table = next;
    if (healthChecks) next.start();
    previous?.stop();
    for (const r of config.routes) {
      metrics.routeWeight.labels(r.name).set(r.weight);
      metrics.canaryState.labels(r.name).set(canary.stateCode(r.name));
    }
    for (const pool of next.pools.values()) for (const inst of pool.instances) metrics.instanceHealthy.labels(pool.name, inst.base).set(inst.healthy ? 1 : 0);
    for (const name of canaryRoutes()) if (!config.routes.some((r) => r.name === name)) canary.abort(name, 'route removed from config');
  };
  const canaryRoutes = () => Object.keys(canary.snapshot());

  function persistWeight(route: string, weight: number): void {
    const raw = editWeight(readRawConfig(opts.configPath), route, weight);
    writeConfig(opts.configPath, raw);
    lastText = readFileSync(opts.configPath, 'utf8');
    apply(parseConfigText(lastText, opts.configPath));
    log.info({ route, weight }, 'route weight set');
    opts.onWeightPersisted?.();
  }

  apply(initial);
  for (const r of initial.routes) if (r.canary?.autoStart && !opts.reportResult) canary.start(r.name, r.canary);

  const onText = (text: string) => {
    if (text === lastText) return;
    lastText = text;
    try {
      apply(parseConfigText(text, opts.configPath));
      metrics.reloads.labels('applied').inc();
      log.info({ path: opts.configPath }, 'config reloaded');
    } catch (err) {
      metrics.reloads.labels('rejected').inc();
      log.error({ err: (err as Error).message }, 'config change rejected; the previous config keeps serving');
    }
  };
  const stopWatching = watchConfig(opts.configPath, opts.watchIntervalMs ?? 200, onText);
  const reload = () => {
    try {
      onText(readFileSync(opts.configPath, 'utf8'));
    } catch {
      // unreadable for a moment: the watcher will try again
    }
  };

  const limiter: RateLimiter = opts.redisUrl
    ? new RedisRateLimiter(opts.redisUrl, opts.redisPrefix ?? 'proxy:rl:', (err) => log.error({ err: err.message }, 'rate limit store error'))
    : new MemoryRateLimiter();
  const verifier = new JwtVerifier(opts.jwtSecret);
  const shadowReport = new ShadowReport();

  const forwarder = new Forwarder({
    table: () => table,
    agents,
    metrics,
    limiter,
    verifier,
    shadowReport,
    log,
    onResult: opts.reportResult ?? ((route, side, ms, isError) => canary.record(route, side, ms, isError)),
  });

  let draining = false;
  const state = () => {
    const cfg = table.config;
    const canaryState = opts.canaryState ? opts.canaryState() : canary.snapshot();
    return {
      // Which process answered (several with PROXY_WORKERS): lets an operator see they agree.
      pid: process.pid,
      routes: cfg.routes.map((r) => ({ name: r.name, prefix: r.prefix, methods: r.methods ?? 'any', old: r.old, new: r.new, weight: r.weight, shadow: r.shadow, canary: r.canary })),
      pools: [...table.pools.values()].map((p) => ({
        name: p.name,
        balance: p.config.balance,
        instances: p.instances.map((i) => ({ url: i.base, healthy: i.healthy, inFlight: i.inFlight })),
      })),
      defaultPool: cfg.defaultPool,
      shadow: shadowReport.snapshot(),
      canary: canaryState,
      config: cfg,
    };
  };
  const actions = {
    state,
    setWeight: (route: string, weight: number) => {
      if (!table.config.routes.some((r) => r.name === route)) throw new Error(`no route named "${route}"`);
      // A hand-set weight wins over a running canary: the operator is in charge.
      if (opts.canaryCommand) opts.canaryCommand({ op: 'abort', route });
      else canary.abort(route, `weight set to ${weight} through the admin API`);
      persistWeight(route, weight);
    },
    startCanary: (route: string) => {
      const rc = table.config.routes.find((r) => r.name === route);
      if (!rc) throw new Error(`no route named "${route}"`);
      if (!rc.canary) throw new Error(`route "${route}" has no canary steps in the config`);
      if (opts.canaryCommand) opts.canaryCommand({ op: 'start', route });
      else canary.start(route, rc.canary);
    },
    abortCanary: (route: string) => {
      if (opts.canaryCommand) opts.canaryCommand({ op: 'abort', route });
      else canary.abort(route, 'aborted through the admin API');
    },
  };

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.charCodeAt(1) === 95 /* _ */ && url.startsWith(ADMIN_PREFIX)) {
      void handleAdmin(req, res, verifier, actions);
      return;
    }
    if (req.method === 'GET' && (url === '/health/live' || url === '/health/started')) return sendJson(res, 200, { status: 'ok' });
    if (req.method === 'GET' && url === '/health/ready') {
      return draining ? sendProblem(res, 503, 'Draining', 'the proxy is shutting down') : sendJson(res, 200, { status: 'ok' });
    }
    if (req.method === 'GET' && url === '/openapi.json') {
      void routedDocument(table).then(
        (doc) => (doc ? sendJson(res, 200, doc) : sendProblem(res, 502, 'Bad Gateway', 'no pool answered its /openapi.json')),
        () => sendProblem(res, 502, 'Bad Gateway', 'the routed document could not be assembled'),
      );
      return;
    }
    if (req.method === 'GET' && url === '/metrics') {
      for (const r of table.config.routes) {
        const s = shadowReport.snapshot().routes[r.name];
        if (s?.matchRate != null) metrics.shadowMatchRatio.labels(r.name).set(s.matchRate);
        metrics.canaryState.labels(r.name).set(canary.stateCode(r.name));
      }
      void metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      });
      return;
    }
    forwarder.handle(req, res);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.on('upgrade', (req, socket, head) => forwarder.upgrade(req, socket as import('node:net').Socket, head));
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, opts.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port, config: opts.configPath }, 'proxy listening');

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    config: () => table.config,
    metrics,
    canary,
    setWeight: actions.setWeight,
    reload,
    async close() {
      draining = true;
      stopWatching();
      canary.stop();
      table.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests in flight get a grace period; tunnels (WebSockets) would otherwise hold us forever.
        setTimeout(() => server.closeAllConnections(), opts.drainMs ?? 10_000).unref();
      });
      agents.destroy();
      await limiter.close();
    },
  };
}

export { readConfig };
