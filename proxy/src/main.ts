// `npm run proxy`: the strangler proxy as its own deployable (it imports nothing from src/).
// PROXY_WORKERS=N (or `auto`, one per core) runs N workers behind node:cluster; see cluster.ts for
// how reload, admin changes and the canary stay consistent across them.
import cluster from 'node:cluster';
import { setFlagsFromString } from 'node:v8';
import { availableParallelism } from 'node:os';
import { pino } from 'pino';
import { readProxyEnv } from './proxy-env.ts';
import { readConfig, ConfigError } from './config-file.ts';
import { startProxy } from './proxy-server.ts';
import { runPrimary, runWorker } from './cluster.ts';
import { currentTracing, exportRequested, startTracing } from '../../lib/telemetry/index.ts';

// V8 otherwise learns, while the proxy warms up, to allocate per-request objects (request, headers,
// upstream answer) straight into the old generation: every young collection then scans them and
// takes ~10 ms instead of ~1 ms, and the heap grows until a full collection. Measured with
// --trace-gc at 8,000 req/s; see docs/proxy.md (Performance).
setFlagsFromString('--no-allocation-site-pretenuring');

let env;
try {
  env = readProxyEnv();
  // Fail fast with the line/column or the field path before anything listens.
  if (cluster.isPrimary) readConfig(env.PROXY_CONFIG);
  // Spans only when OTEL_* asks for export (request-trace.ts); each process exports its own.
  if (exportRequested()) await startTracing({ serviceName: 'proxy' });
} catch (err) {
  console.error(err instanceof ConfigError || err instanceof Error ? err.message : err);
  process.exit(1);
}

const log = pino({ level: env.LOG_LEVEL });
const workers = env.PROXY_WORKERS === 'auto' ? availableParallelism() : env.PROXY_WORKERS;
const baseOptions = {
  configPath: env.PROXY_CONFIG,
  port: env.PROXY_PORT,
  jwtSecret: env.jwtSecret,
  redisUrl: env.REDIS_URL,
  redisPrefix: env.PROXY_REDIS_PREFIX,
  logger: log,
};

if (workers > 1 && cluster.isPrimary) {
  runPrimary(workers, baseOptions, log);
} else if (cluster.isWorker) {
  await runWorker(baseOptions);
} else {
  const proxy = await startProxy(baseOptions);
  const stop = async () => {
    log.info('draining');
    await proxy.close();
    await currentTracing()?.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
