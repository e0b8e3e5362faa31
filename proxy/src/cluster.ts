// The proxy always runs as a primary and PROXY_WORKERS workers behind node:cluster (the primary
// accepts, workers serve). The primary supervises: a worker that dies, whatever the reason, is
// logged with its exit code or signal and replaced, with a growing pause if replacements keep dying
// at once (a crash loop must not spin a core). How state stays consistent across workers:
// - config: the file is the single source of truth. Every worker watches it; an admin weight change
//   made on one worker is written to the file and the primary tells every worker to reload at once.
// - canary: runs only in the primary. Workers send it every finished request on a canary route (in
//   batches) and forward start/pause/resume/abort commands; the primary writes weights to the file (→ reload
//   everywhere) and broadcasts its canary state so any worker's admin API shows the same thing.
// - rate limits: shared only through Redis (REDIS_URL); in memory each worker has its own buckets.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { CanaryController, isActive, type CanaryCommand } from './canary-controller.ts';
import { readConfig, readRawConfig, writeConfig } from './config-file.ts';
import { setWeight } from './config-edit.ts';
import { startProxy, type ProxyOptions } from './proxy-server.ts';
import type { Side } from './side-assignment.ts';
import { currentTracing } from '../../lib/telemetry/index.ts';

type ToPrimary =
  | { t: 'results'; batch: [string, Side, number, boolean][] }
  | ({ t: 'canary' } & CanaryCommand)
  | { t: 'reload-all' };
type ToWorker = { t: 'canary-state'; state: unknown } | { t: 'reload' };

export function runPrimary(workers: number, opts: ProxyOptions, log: Logger): void {
  const broadcast = (msg: ToWorker) => {
    for (const w of Object.values(cluster.workers ?? {})) w?.send(msg);
  };
  const canary = new CanaryController({
    setWeight: (route, weight) => {
      writeConfig(opts.configPath, setWeight(readRawConfig(opts.configPath), route, weight));
      broadcast({ t: 'reload' });
    },
    onEvent: (route, e) => {
      log.info({ route, ...e }, `canary ${e.event}`);
      broadcast({ t: 'canary-state', state: canary.snapshot() });
    },
    onFailure: (route, message) => log.error({ route }, message),
  });
  // With REDIS_URL the workers share the table through Redis and one of them runs the canary
  // (shared-table.ts); the primary's controller then stays idle.
  if (!opts.redisUrl) for (const r of readConfig(opts.configPath).routes) if (r.canary?.autoStart) canary.start(r.name, r.canary);

  const onMessage = (msg: ToPrimary) => {
    if (msg.t === 'results') for (const [route, side, ms, err] of msg.batch) canary.record(route, side, ms, err);
    else if (msg.t === 'reload-all') broadcast({ t: 'reload' });
    else if (msg.t === 'canary') {
      try {
        canary.apply(msg, (route) => readConfig(opts.configPath).routes.find((r) => r.name === route)?.canary);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'canary command failed');
      }
      broadcast({ t: 'canary-state', state: canary.snapshot() });
    }
  };
  const startedAt = new Map<number, number>();
  const fork = (): Worker => {
    const w = cluster.fork();
    w.on('message', onMessage);
    startedAt.set(w.id, Date.now());
    return w;
  };
  // A larger young generation means fewer scavenges per request served: measurably better
  // throughput and p99 for a process that allocates small short-lived objects per request.
  cluster.setupPrimary({ execArgv: [...process.execArgv, '--max-semi-space-size=32'] });
  for (let i = 0; i < workers; i++) fork();
  const stateTimer = setInterval(() => broadcast({ t: 'canary-state', state: canary.snapshot() }), 500);
  let stopping = false;
  let quickDeaths = 0;
  cluster.on('exit', (w, code, signal) => {
    const lived = Date.now() - (startedAt.get(w.id) ?? 0);
    startedAt.delete(w.id);
    if (stopping) {
      // A worker that did not end its stop cleanly is worth a line: the primary itself still ends in 0.
      const clean = code === 0 && !signal;
      log[clean ? 'info' : 'error']({ workerPid: w.process.pid, code, signal }, clean ? 'worker stopped' : `worker stopped badly (${signal ? `signal ${signal}` : `exit code ${code}`})`);
      return;
    }
    // Dying within seconds of starting, again and again, is a crash loop: wait longer each time.
    quickDeaths = lived < 5_000 ? quickDeaths + 1 : 0;
    const delayMs = quickDeaths === 0 ? 0 : Math.min(30_000, 100 * 2 ** Math.min(quickDeaths, 9));
    log.error({ workerPid: w.process.pid, code, signal, livedMs: lived, restartInMs: delayMs }, `worker died (${signal ? `signal ${signal}` : `exit code ${code}`}); starting another`);
    setTimeout(() => {
      if (!stopping) fork();
    }, delayMs);
  });
  const stop = () => {
    stopping = true;
    clearInterval(stateTimer);
    canary.stop();
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  log.info({ workers }, 'proxy primary started');
}

export async function runWorker(opts: ProxyOptions): Promise<void> {
  let canaryState: unknown = {};
  let batch: [string, Side, number, boolean][] = [];
  const send = (msg: ToPrimary) => process.send?.(msg);
  const flush = setInterval(() => {
    if (!batch.length) return;
    send({ t: 'results', batch });
    batch = [];
  }, 100);
  flush.unref();
  const canaryHooks = opts.redisUrl
    ? {}
    : {
        // Only routes with a running canary are worth the IPC; the primary's state says which.
        reportResult: (route: string, side: Side, ms: number, isError: boolean) => {
          const s = (canaryState as Record<string, { status?: string }>)[route];
          if (isActive(s?.status)) batch.push([route, side, ms, isError]);
        },
        canaryState: () => canaryState,
        canaryCommand: (cmd: CanaryCommand) => send({ t: 'canary', ...cmd }),
      };
  const proxy = await startProxy({
    ...opts,
    ...canaryHooks,
    onWeightPersisted: () => send({ t: 'reload-all' }),
  });
  process.on('message', (msg: ToWorker) => {
    if (msg.t === 'canary-state') canaryState = msg.state;
    else if (msg.t === 'reload') proxy.reload();
  });
  // SIGTERM from the primary; SIGINT too, as Ctrl-C in a terminal sends it to every process of the group.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // A stop that hangs (a Redis that no longer answers its QUIT, ...) is cut short, as the
    // monolith's is: the drain's grace, then 5 s for the rest.
    const deadline = Date.now() + (opts.drainMs ?? 10_000) + 5_000;
    const guard = setTimeout(() => {
      opts.logger?.error('stop took too long; exiting');
      process.exit(1);
    }, deadline - Date.now());
    guard.unref();
    try {
      await proxy.close();
    } catch (err) {
      opts.logger?.error({ err }, 'stop failed');
      process.exit(1);
    }
    // Spans the collector does not take are reported; the worker drained, so it still ends in 0.
    const lost = await currentTracing()?.shutdown(deadline - 500);
    if (lost) opts.logger?.warn({ err: lost }, 'spans still buffered at the stop could not be exported');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
