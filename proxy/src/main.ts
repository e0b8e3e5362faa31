// `npm run proxy`: the strangler proxy as its own deployable (it imports nothing from src/). A
// primary process supervises PROXY_WORKERS workers (1 by default, `auto` for one per core) and
// starts another when one dies, so no request can take the edge down; see cluster.ts for how
// reload, admin changes and the canary stay consistent across them.
import cluster from 'node:cluster';
import { setFlagsFromString } from 'node:v8';
import { availableParallelism } from 'node:os';
import { pino } from 'pino';
import { isLoopbackHost } from '../../lib/trust/index.ts';
import { readProxyEnv, type ProxyEnv } from './proxy-env.ts';
import { readConfig } from './config-file.ts';
import { runPrimary, runWorker } from './cluster.ts';
import { exportRequested, startTracing, TracingSettingsError } from '../../lib/telemetry/index.ts';

// `npm run proxy -- export <engine>`: the route table for nginx or Kubernetes, then exit.
if (process.argv[2] === 'export') {
  const { runExport } = await import('./export/cli.ts');
  process.exit(await runExport(process.argv.slice(3)));
}

// V8 otherwise learns, while the proxy warms up, to allocate per-request objects (request, headers,
// upstream answer) straight into the old generation: every young collection then scans them and
// takes ~10 ms instead of ~1 ms, and the heap grows until a full collection. Measured with
// --trace-gc at 8,000 req/s; see docs/proxy.md (Performance).
setFlagsFromString('--no-allocation-site-pretenuring');

// sysexits.h's EX_CONFIG, as the app's bootstrap uses: a supervisor can tell a bad setting, which
// a restart will not fix, from a crash.
const EX_CONFIG = 78;

let env: ProxyEnv;
try {
  env = readProxyEnv();
  // Fail fast with the line/column or the field path before anything listens.
  if (cluster.isPrimary) readConfig(env.PROXY_CONFIG);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(EX_CONFIG);
}

const log = pino({ level: env.LOG_LEVEL });
const options = {
  configPath: env.PROXY_CONFIG,
  port: env.PROXY_PORT,
  host: env.host,
  internalPort: env.internalPort,
  internalHost: env.internalHost,
  tokens: env.tokens,
  redisUrl: env.REDIS_URL,
  redisPrefix: env.PROXY_REDIS_PREFIX,
  logger: log,
  accessLog: env.PROXY_ACCESS_LOG,
  console: {
    topologyFile: env.TOPOLOGY_FILE,
    traceUrl: env.CONSOLE_TRACE_URL,
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k === 'MONOLITH_URLS' || /^MODULE_[A-Z0-9_]+_URLS$/.test(k))),
  },
};

if (cluster.isPrimary) {
  if (env.developmentKeys && !(isLoopbackHost(env.host) && isLoopbackHost(env.internalHost))) {
    log.warn(
      { host: env.host, internalHost: env.internalHost, keys: 'development' },
      'tokens are checked with the generated development key on a non-loopback address: anyone who can read DATA_DIR can mint tokens; set JWT_SECRET or JWT_JWKS_URL',
    );
  }
  runPrimary(env.PROXY_WORKERS === 'auto' ? availableParallelism() : env.PROXY_WORKERS, options, log);
} else {
  // Spans only when OTEL_* asks for export (request-trace.ts); each worker exports its own.
  try {
    if (exportRequested()) await startTracing({ serviceName: 'proxy' });
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(err instanceof TracingSettingsError ? EX_CONFIG : 1);
  }
  await runWorker(options);
}
