// One proxy process: its parts put together and listening. The config (live-config.ts), the
// forwarding pipeline (forwarder.ts), the canary, the admin API and the probes are each in their
// own file; this one wires them and owns the server's lifetime. `startProxy` is what main.ts, the
// tests and the bench call.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pino, type Logger } from 'pino';
import type { ProxyConfig } from './config-schema.ts';
import { UpstreamAgents } from './upstream-agents.ts';
import { Forwarder } from './forwarder.ts';
import { WebSocketTunnels } from './websocket-tunnel.ts';
import { Gate } from './gate.ts';
import { ProxyMetrics } from './metrics.ts';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter } from './rate-limit.ts';
import { JwtVerifier } from './jwt-auth.ts';
import { ShadowReport } from './shadow-compare.ts';
import { CanaryController } from './canary-controller.ts';
import { LiveConfig, readConfigFile } from './live-config.ts';
import { adminActions } from './admin-actions.ts';
import { ADMIN_PREFIX, handleAdmin } from './admin-api.ts';
import { answerMetrics, answerProbe } from './own-endpoints.ts';
import type { Side } from './side-assignment.ts';

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
  const metrics = new ProxyMetrics();
  const inCluster = opts.reportResult !== undefined;
  // Throws a ConfigError naming the line/column or field: main.ts prints it and exits.
  const first = readConfigFile(opts.configPath);
  const agents = new UpstreamAgents(first.config.connectTimeoutMs);
  const canary = new CanaryController(
    { setWeight: (route, weight) => live.persistWeight(route, weight), onEvent: (route, e) => log.info({ route, ...e }, `canary ${e.event}`) },
    // In a cluster worker the primary runs the canary; this one never ticks.
    inCluster ? 0 : 100,
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
      for (const name of Object.keys(canary.snapshot())) if (!config.routes.some((r) => r.name === name)) canary.abort(name, 'route removed from config');
    },
    onWeightPersisted: opts.onWeightPersisted,
  });
  live.start();
  if (!inCluster) for (const r of first.config.routes) if (r.canary?.autoStart) canary.start(r.name, r.canary);

  const limiter: RateLimiter = opts.redisUrl
    ? new RedisRateLimiter(opts.redisUrl, opts.redisPrefix ?? 'proxy:rl:', (err) => log.error({ err: err.message }, 'rate limit store error'))
    : new MemoryRateLimiter();
  const verifier = new JwtVerifier(opts.jwtSecret);
  const shadowReport = new ShadowReport();
  const table = () => live.table();
  const gate = new Gate(verifier, limiter, metrics);
  const forwarder = new Forwarder(
    { table, agents, metrics, shadowReport, log, onResult: opts.reportResult ?? ((route, side, ms, isError) => canary.record(route, side, ms, isError)) },
    gate,
  );
  const tunnels = new WebSocketTunnels(table, gate);
  const actions = adminActions(live, canary, shadowReport, inCluster ? { state: () => opts.canaryState?.() ?? {}, command: (cmd) => opts.canaryCommand?.(cmd) } : undefined);

  let draining = false;
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.charCodeAt(1) === 95 /* _ */ && url.startsWith(ADMIN_PREFIX)) return void handleAdmin(req, res, verifier, actions);
    if (answerProbe(req, res, draining)) return;
    if (req.method === 'GET' && url === '/metrics') return answerMetrics(res, metrics, table().config, shadowReport, canary);
    forwarder.handle(req, res);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.on('upgrade', (req, socket, head) => tunnels.upgrade(req, socket as Socket, head));
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
    config: () => table().config,
    metrics,
    canary,
    setWeight: actions.setWeight,
    reload: () => live.reload(),
    async close() {
      draining = true;
      live.stop();
      canary.stop();
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
