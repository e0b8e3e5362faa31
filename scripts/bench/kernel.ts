// Bench: the kernel. `npm start`, as package.json's script runs it (SQLite, every module, in-process bus):
//   - start-up: process spawn → first 200 from /health/ready, and resident memory right after,
//     with a fresh DATA_DIR (migrations and seed run) and warm (the same DATA_DIR again);
//   - GET /api/v1/products/:sku under autocannon, side by side in the same run with a minimal
//     express + better-sqlite3 server doing the same lookup on the same file
//     (scripts/bench/kernel-baseline.ts). The ratio is the figure: what the module system costs;
//   - the same lookup with tracing on (every request sampled, spans exported over OTLP/HTTP to a
//     local sink standing in for a collector) against tracing off: what OpenTelemetry costs;
//   - start-up and memory of an extracted service's bundle (built into a temp dir as an image's
//     build stage does) against `npm run service -- <module>` for the same module;
//   - resident memory and GC cost per request of npm start's command with each candidate size of
//     V8's young generation (young-generation.ts).
// Every load run checks its own answers (all 200, each body the expected one) before a figure is
// reported. Traffic goes to 127.0.0.1 only. Writes the `kernel` section of docs/benchmarks.md.
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { mintToken } from '../../src/platform/auth/jwt.ts';
import { BENCH_JWT_SECRET, benchKeysEnv } from './keys.ts';
import { table, writeSection } from './report.ts';
import { flagsOf, freePort, scriptArgs } from './harness.ts';
import { RUNTIME_FLAGS, SOURCE_PRELOAD } from '../deploy/runtime-flags.ts';
import { buildForStart, freshBuild } from '../start-cache.ts';
import { youngGenerationTrial } from './young-generation.ts';

const root = resolve(import.meta.dirname, '../..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const STARTS = Number(process.env.BENCH_STARTS ?? 3);
const SKU = 'MUG-STONE'; // one of the seeded demo products
const TRACING_PAIRS = Number(process.env.BENCH_TRACING_PAIRS ?? 16);
const BUNDLED_MODULE = process.env.BENCH_BUNDLED_MODULE ?? 'catalog';
const PAIR_SECONDS = Number(process.env.BENCH_PAIR_SECONDS ?? 3);
const YOUNG_ROUNDS = Number(process.env.BENCH_YOUNG_ROUNDS ?? 6);
/** Semi-space sizes (MB) the young-generation table compares with V8's default (`undefined`). */
const YOUNG_SIZES = [undefined, 16, 8, 4];
const CLOCK_TICKS_PER_SECOND = 100; // Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these


function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/^VmRSS:\s+(\d+) kB/m)![1]) / 1024;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Spawns a server and polls /health/ready (every 5 ms) until it answers 200. */
async function startServer(args: string[], env: Record<string, string>, port: number): Promise<{ child: ChildProcess; readyMs: number; rss: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health/ready`);
      await r.arrayBuffer();
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${args.join(' ')} not ready within 60 s`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const readyMs = performance.now() - t0;
  return { child, readyMs, rss: rssMb(child.pid!) };
}

const START = scriptArgs('start');
const SERVICE = scriptArgs('service');
/** An entry started from source: npm start's flags without its launcher (scripts/start.ts). */
const FROM_SOURCE = [...RUNTIME_FLAGS, ...SOURCE_PRELOAD];

/**
 * `entry` src/main.ts and src/service.ts start with their package.json script's command (through
 * its cached build); scripts/bench/monolith-without-hooks.ts (the same app without main.ts's hook:
 * drizzle-orm loads as ES modules) from source; a bundle with the flags its image's CMD passes
 * (runtime-flags.ts); `nodeFlags`, when given, instead.
 */
const startApp = async (dataDir: string, entry = START.at(-1)!, logLevel = 'info', extraEnv: Record<string, string> = {}, args: string[] = [], nodeFlags?: string[]) => {
  const port = await freePort();
  const flags = nodeFlags ?? (entry === 'src/service.ts' ? flagsOf(SERVICE) : entry === 'src/main.ts' ? flagsOf(START) : entry.endsWith('.mjs') ? [...RUNTIME_FLAGS] : FROM_SOURCE);
  // LOG_LEVEL at its default (info: one JSON line per request), as deployed; stdout is discarded.
  const s = await startServer([...flags, entry, ...args], { ...benchKeysEnv, PORT: String(port), INTERNAL_PORT: String(await freePort()), HOST: '127.0.0.1', DATA_DIR: dataDir, BUS: 'inprocess', DATABASE_URL: '', NODE_ENV: 'development', LOG_LEVEL: logLevel, ...extraEnv }, port);
  return { ...s, port };
};

const startBaseline = async (dataDir: string) => {
  const port = await freePort();
  const s = await startServer(['scripts/bench/kernel-baseline.ts', String(port), join(dataDir, 'catalog.sqlite')], {}, port);
  return { ...s, port };
};

/** The exact body each server answers the lookup with (checked equal as JSON across servers), by port. */
const expectedBodies = new Map<number, string>();

/**
 * One load run. Every answer must be a 200 carrying the expected body (autocannon compares each
 * one): a run with any other answer stops the bench rather than report a figure of failures.
 */
async function load(port: number, token: string, seconds: number): Promise<{ rps: number; total: number; p50: number; p99: number; errors: number; non2xx: number }> {
  const expectBody = expectedBodies.get(port);
  if (!expectBody) throw new Error(`no expected body recorded for the server on port ${port}`);
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/api/v1/products/${SKU}`,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
    expectBody,
  });
  const bad = { errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx, mismatches: r.mismatches };
  if (r.requests.total === 0 || Object.values(bad).some((n) => n > 0)) {
    throw new Error(`load on port ${port} got answers other than 200 with the expected body: ${JSON.stringify({ ...bad, requests: r.requests.total })}`);
  }
  // Sent, not answered: the requests still in flight when the run ends (one a connection) are
  // handled all the same, and a traced server records each of them.
  sentTo.set(port, (sentTo.get(port) ?? 0) + r.requests.sent);
  return { rps: r.requests.average, total: r.requests.total, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

/** Lookups sent to each server (by port) under load, warm-ups included. */
const sentTo = new Map<number, number>();

/** Records the body `port` answers the lookup with; it must equal `reference` as JSON when one is given. */
async function recordExpectedBody(port: number, token: string, reference?: string): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}/api/v1/products/${SKU}`, { headers: { authorization: `Bearer ${token}` } });
  const body = await r.text();
  if (r.status !== 200) throw new Error(`the server on port ${port} answers ${r.status}: ${body}`);
  if (reference !== undefined && JSON.stringify(JSON.parse(body)) !== JSON.stringify(JSON.parse(reference))) {
    throw new Error(`the server on port ${port} answers differently:\n${reference}\n${body}`);
  }
  expectedBodies.set(port, body);
  return body;
}

/** Builds `module`'s service bundle into a temp dir the way an image's build stage does; answers its entry file. */
function buildServiceBundle(module: string, outDir: string): string {
  const r = spawnSync(process.execPath, ['scripts/build-deployable.ts', module, outDir], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the ${module} bundle failed:\n${r.stderr}${r.stdout}`);
  return join(outDir, 'dist', 'service.mjs');
}

/**
 * The collector's stand-in, a process of its own (trace-sink.ts says why): its endpoint, and what
 * it has received so far.
 */
async function startTraceSink(): Promise<{ endpoint: string; received: () => Promise<{ bytes: number; spans: number }>; close: () => Promise<void> }> {
  const child = fork(join(import.meta.dirname, 'trace-sink.ts'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const next = <T>(): Promise<T> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the trace sink exited (${code})`));
      child.once('exit', onExit);
      child.once('message', (m) => {
        child.off('exit', onExit);
        resolve(m as T);
      });
    });
  const { port } = await next<{ port: number }>();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    received: () => {
      if (child.exitCode !== null || child.signalCode !== null || !child.connected) return Promise.reject(new Error('the trace sink is gone'));
      const answer = next<{ bytes: number; spans: number }>();
      // Without a callback a send on a channel that closed meanwhile is an 'error' event no one
      // listens for, which would end the bench before it stops its servers.
      child.send('count', (err) => err && child.kill());
      return answer;
    },
    close: () => stop(child),
  };
}

/**
 * The sentence under the tracing table. The figure is CPU time per request (what tracing adds to
 * each request's work, which other processes' load hardly moves); throughput beside it. A cost
 * inside the drift is said to be so, not printed as a gain.
 */
function tracingVerdict(extraCpu: number, ratio: number, pairs: number, cpuSpread: [number, number]): string {
  const cpu = extraCpu > 0 ? `Tracing on costs **${f(extraCpu * 100, 1)} %** more CPU per request` : `Tracing on costs no CPU per request measurable against the drift (${f(extraCpu * 100, 1)} %)`;
  const within = extraCpu <= 0.1 ? 'within the 10 % bound' : '**over the 10 % bound**';
  const spread = `the pairs' middle half ranged ${f(cpuSpread[0] * 100, 1)} % to ${f(cpuSpread[1] * 100, 1)} %`;
  const throughput = ratio < 1 ? `it served ${f(ratio * 100, 1)} % of tracing off's throughput` : `it served as many requests as tracing off (${f(ratio * 100, 1)} %: within the drift)`;
  return `${cpu} (median over ${pairs} pairs; ${spread}): ${within}. Throughput agrees: ${throughput}.`;
}

/** The value at fraction q (0..1) of the sorted values. */
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

/** CPU time (user + system) a process has used so far, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** One load run on `port`, with the server's CPU time per request it served. */
async function measured(pid: number, port: number, token: string, seconds: number) {
  const before = cpuMs(pid);
  const r = await load(port, token, seconds);
  return { ...r, cpuPerRequestMs: (cpuMs(pid) - before) / r.total };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (n: number, d = 0) => n.toFixed(d);

export async function run(): Promise<void> {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const sinks: { close: () => Promise<void> }[] = [];
  try {
    // --- start-up: fresh data dir, then warm (the same dir again)
    const fresh: { ms: number; rss: number }[] = [];
    const warm: { ms: number; rss: number }[] = [];
    const baselineStart: { ms: number; rss: number }[] = [];
    const warmCjs: { ms: number; rss: number }[] = [];
    const warmSource: { ms: number; rss: number }[] = [];
    // npm start's build, made before the first timed start as a checkout's first start (or the first
    // after a change) would; timed, as what a change to a source file costs the next start.
    const buildStarted = performance.now();
    for (const entry of ['src/main.ts', 'src/service.ts']) if (!freshBuild(root, entry)) await buildForStart(root, entry);
    const buildMs = performance.now() - buildStarted;
    const remade = performance.now();
    await buildForStart(root, 'src/main.ts');
    const rebuildMs = performance.now() - remade;
    const bundled: { ms: number; rss: number }[] = [];
    const fromSource: { ms: number; rss: number }[] = [];
    let dataDir = '';
    for (let i = 0; i < STARTS; i++) {
      dataDir = mkdtempSync(join(tmpdir(), 'bench-kernel-'));
      dirs.push(dataDir);
      const a = await startApp(dataDir);
      fresh.push({ ms: a.readyMs, rss: a.rss });
      await stop(a.child);
      const b = await startApp(dataDir);
      warm.push({ ms: b.readyMs, rss: b.rss });
      await stop(b.child);
      const h = await startApp(dataDir, 'scripts/bench/monolith-without-hooks.ts');
      warmCjs.push({ ms: h.readyMs, rss: h.rss });
      await stop(h.child);
      const src = await startApp(dataDir, 'src/main.ts', 'info', {}, [], FROM_SOURCE);
      warmSource.push({ ms: src.readyMs, rss: src.rss });
      await stop(src.child);
      const c = await startBaseline(dataDir);
      baselineStart.push({ ms: c.readyMs, rss: c.rss });
      await stop(c.child);
      console.log(`  start ${i + 1}: fresh ${f(a.readyMs)} ms ${f(a.rss)} MB · warm ${f(b.readyMs)} ms ${f(b.rss)} MB · warm from source ${f(src.readyMs)} ms ${f(src.rss)} MB · warm, drizzle as ESM ${f(h.readyMs)} ms ${f(h.rss)} MB · baseline ${f(c.readyMs)} ms ${f(c.rss)} MB`);
    }

    // --- an extracted service's bundle against the same module as npm run service starts it, warm, in turns
    const bundleDir = mkdtempSync(join(tmpdir(), 'bench-kernel-bundle-'));
    dirs.push(bundleDir);
    const bundleEntry = buildServiceBundle(BUNDLED_MODULE, bundleDir);
    const serviceDataDir = mkdtempSync(join(tmpdir(), 'bench-kernel-service-'));
    dirs.push(serviceDataDir);
    // A service alone meets the others over BullMQ (its default bus): the local Redis, a prefix of this run's own.
    const serviceEnv = { BUS: 'bullmq', BUS_PREFIX: `bench-kernel-${randomBytes(4).toString('hex')}` };
    await stop((await startApp(serviceDataDir, 'src/service.ts', 'info', serviceEnv, [BUNDLED_MODULE])).child); // migrate + seed once
    for (let i = 0; i < STARTS; i++) {
      const s1 = await startApp(serviceDataDir, 'src/service.ts', 'info', serviceEnv, [BUNDLED_MODULE]);
      fromSource.push({ ms: s1.readyMs, rss: s1.rss });
      await stop(s1.child);
      const s2 = await startApp(serviceDataDir, bundleEntry, 'info', serviceEnv);
      bundled.push({ ms: s2.readyMs, rss: s2.rss });
      await stop(s2.child);
      console.log(`  ${BUNDLED_MODULE} service start ${i + 1}: npm run service ${f(s1.readyMs)} ms ${f(s1.rss)} MB · bundle ${f(s2.readyMs)} ms ${f(s2.rss)} MB`);
    }

    // --- throughput: both servers on the last data dir, measured in turns
    const token = await mintToken({ sub: 'bench', secret: BENCH_JWT_SECRET });
    const app = await startApp(dataDir);
    children.push(app.child);
    const quiet = await startApp(dataDir, 'src/main.ts', 'warn');
    children.push(quiet.child);
    const baseline = await startBaseline(dataDir);
    children.push(baseline.child);
    const sink = await startTraceSink();
    sinks.push(sink);
    // The tracing pair, both halves from source: with OTEL_* set npm start runs from source (the
    // instrumentations patch packages as they load, and its build holds its own copies).
    const traced = await startApp(dataDir, 'src/main.ts', 'info', { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint }, [], FROM_SOURCE);
    children.push(traced.child);
    const untraced = await startApp(dataDir, 'src/main.ts', 'info', {}, [], FROM_SOURCE);
    children.push(untraced.child);
    // What each server must answer on every request of every run (load() checks each answer).
    const reference = await recordExpectedBody(app.port, token);
    for (const other of [quiet, baseline, traced, untraced]) await recordExpectedBody(other.port, token, reference);
    // Warm-up for both (JIT, SQLite page cache).
    await load(app.port, token, 1);
    await load(quiet.port, token, 1);
    await load(baseline.port, token, 1);
    await load(traced.port, token, 1);
    await load(untraced.port, token, 1);
    type Run = Awaited<ReturnType<typeof measured>>;
    const results = { app: [] as Run[], quiet: [] as Run[], baseline: [] as Run[], traced: [] as Run[] };
    for (let round = 0; round < ROUNDS; round++) {
      const a = await measured(app.child.pid!, app.port, token, SECONDS);
      const t = await measured(traced.child.pid!, traced.port, token, SECONDS);
      // Tracing off from source gets the same load as tracing on before the pairs, so neither
      // enters them with more of its code optimised by the JIT.
      const u = await measured(untraced.child.pid!, untraced.port, token, SECONDS);
      const q = await measured(quiet.child.pid!, quiet.port, token, SECONDS);
      const b = await measured(baseline.child.pid!, baseline.port, token, SECONDS);
      results.app.push(a);
      results.quiet.push(q);
      results.baseline.push(b);
      results.traced.push(t);
      console.log(`  round ${round + 1}: kernel ${f(a.rps)} req/s ${f(a.cpuPerRequestMs, 3)} CPU ms/req · kernel at warn ${f(q.rps)} req/s ${f(q.cpuPerRequestMs, 3)} CPU ms/req · baseline ${f(b.rps)} req/s ${f(b.cpuPerRequestMs, 3)} CPU ms/req · tracing on ${f(t.rps)} req/s ${f(t.cpuPerRequestMs, 3)} CPU ms/req · tracing off from source ${f(u.rps)} req/s ${f(u.cpuPerRequestMs, 3)} CPU ms/req`);
    }
    // Tracing off against on, in short runs back to back, the order alternating: on a shared machine
    // throughput drifts by tens of percent within seconds, so each pair's ratio is the sample and
    // the median ratio the figure. CPU time per request served, which drift hardly moves, beside it.
    const pairs: { off: Awaited<ReturnType<typeof measured>>; on: Awaited<ReturnType<typeof measured>> }[] = [];
    for (let i = 0; i < TRACING_PAIRS; i++) {
      const first = i % 2 === 0 ? 'off' : 'on';
      const run = (which: 'off' | 'on') => (which === 'off' ? measured(untraced.child.pid!, untraced.port, token, PAIR_SECONDS) : measured(traced.child.pid!, traced.port, token, PAIR_SECONDS));
      const x = await run(first);
      const y = await run(first === 'off' ? 'on' : 'off');
      const pair = first === 'off' ? { off: x, on: y } : { off: y, on: x };
      pairs.push(pair);
      console.log(`  tracing pair ${i + 1}: off ${f(pair.off.rps)} req/s ${f(pair.off.cpuPerRequestMs, 3)} CPU ms/req · on ${f(pair.on.rps)} req/s ${f(pair.on.cpuPerRequestMs, 3)} CPU ms/req · ratio ${f(pair.on.rps / pair.off.rps, 3)}`);
    }
    const appRss = rssMb(app.child.pid!);
    const summary = (xs: Run[]) => ({
      rps: median(xs.map((x) => x.rps)),
      cpu: median(xs.map((x) => x.cpuPerRequestMs)),
      p50: median(xs.map((x) => x.p50)),
      p99: median(xs.map((x) => x.p99)),
      bad: xs.reduce((s, x) => s + x.errors + x.non2xx, 0),
    });
    const k = summary(results.app);
    const q = summary(results.quiet);
    const b = summary(results.baseline);
    const t = summary(results.traced);
    const ratio = k.rps / b.rps;
    const pairRatio = median(pairs.map((p) => p.on.rps / p.off.rps));
    const cpuOff = median(pairs.map((p) => p.off.cpuPerRequestMs));
    const cpuOn = median(pairs.map((p) => p.on.cpuPerRequestMs));
    // Each pair's own CPU ratio is the sample: the two runs of a pair saw the same machine.
    const cpuRatios = pairs.map((p) => p.on.cpuPerRequestMs / p.off.cpuPerRequestMs - 1);
    const extraCpu = median(cpuRatios);
    // The young generation's size: npm start's command with each candidate, on the same warm data.
    const young = await youngGenerationTrial({
      startArgs: START,
      sizes: YOUNG_SIZES,
      rounds: YOUNG_ROUNDS,
      seconds: PAIR_SECONDS,
      start: async (args) => {
        const server = await startApp(dataDir, args.at(-1)!, 'info', {}, [], args.slice(0, -1));
        await recordExpectedBody(server.port, token, reference);
        return server;
      },
      measure: (pid, port, seconds) => measured(pid, port, token, seconds),
      rssMb,
      stop,
    });
    // Spans reach the sink in batches (the last within the exporter's 5 s schedule). Tracing on is
    // measured only if every lookup sent to it was recorded: a span the SDK dropped (its queue
    // full while an export waited) is work the traced server did not do.
    // One span a lookup: those sent under load and the one recordExpectedBody sent (health probes
    // make none).
    const tracedLookups = (sentTo.get(traced.port) ?? 0) + 1;
    let exported = await sink.received();
    for (const deadline = Date.now() + 30_000; exported.spans < tracedLookups && Date.now() < deadline; exported = await sink.received()) await new Promise((r) => setTimeout(r, 500));
    if (exported.spans < tracedLookups) {
      throw new Error(`tracing on was sent ${tracedLookups} lookups and exported ${exported.spans} spans: ${tracedLookups - exported.spans} dropped, so its figure would not be every request recorded`);
    }
    const exportedMb = exported.bytes / 1e6;

    const startRows = [
      ['`npm start`, fresh DATA_DIR (migrate + seed 5 modules)', f(median(fresh.map((x) => x.ms))), f(Math.min(...fresh.map((x) => x.ms))), f(median(fresh.map((x) => x.rss)))],
      ['`npm start`, warm (same DATA_DIR)', f(median(warm.map((x) => x.ms))), f(Math.min(...warm.map((x) => x.ms))), f(median(warm.map((x) => x.rss)))],
      [`\`node ${FROM_SOURCE.join(' ')} src/main.ts\`, warm: the same from source, without npm start's build`, f(median(warmSource.map((x) => x.ms))), f(Math.min(...warmSource.map((x) => x.ms))), f(median(warmSource.map((x) => x.rss)))],
      ['`node scripts/bench/monolith-without-hooks.ts`, warm: the same app with drizzle-orm as ES modules (no main.ts hook)', f(median(warmCjs.map((x) => x.ms))), f(Math.min(...warmCjs.map((x) => x.ms))), f(median(warmCjs.map((x) => x.rss)))],
      ['baseline (express + better-sqlite3)', f(median(baselineStart.map((x) => x.ms))), f(Math.min(...baselineStart.map((x) => x.ms))), f(median(baselineStart.map((x) => x.rss)))],
      [`\`npm run service -- ${BUNDLED_MODULE}\`, warm (BullMQ bus on the local Redis)`, f(median(fromSource.map((x) => x.ms))), f(Math.min(...fromSource.map((x) => x.ms))), f(median(fromSource.map((x) => x.rss)))],
      [`\`node ${RUNTIME_FLAGS.join(' ')} deploy/${BUNDLED_MODULE}/dist/service.mjs\` (its bundle, built by scripts/build-deployable.ts), warm, same data`, f(median(bundled.map((x) => x.ms))), f(Math.min(...bundled.map((x) => x.ms))), f(median(bundled.map((x) => x.rss)))],
    ];
    const loadRows = [
      ['kernel (`npm start`)', f(k.rps), f(ratio, 2), f(k.cpu, 3), f(b.cpu / k.cpu, 2), String(k.p50), String(k.p99), String(k.bad)],
      ['kernel with `LOG_LEVEL=warn` (no request log line)', f(q.rps), f(q.rps / b.rps, 2), f(q.cpu, 3), f(b.cpu / q.cpu, 2), String(q.p50), String(q.p99), String(q.bad)],
      ['baseline (express + better-sqlite3)', f(b.rps), '1.00', f(b.cpu, 3), '1.00', String(b.p50), String(b.p99), String(b.bad)],
    ];
    const pairOff = median(pairs.map((p) => p.off.rps));
    const pairOn = median(pairs.map((p) => p.on.rps));
    const tracingRows = [
      ['tracing off (no `OTEL_*` set: context propagated, nothing recorded)', f(cpuOff, 3), '1.00', f(pairOff), '1.00', String(median(pairs.map((p) => p.off.p99)))],
      ['tracing on (exporting to a local collector)', f(cpuOn, 3), f(1 + extraCpu, 3), f(pairOn), f(pairRatio, 3), String(median(pairs.map((p) => p.on.p99)))],
    ];
    writeSection(
      'kernel',
      `## Kernel

\`npm start\` (the command package.json's \`start\` script runs: \`${['node', ...START].join(' ')}\`)
with SQLite stores, every module hosted and the in-process bus
(\`scripts/bench/kernel.ts\`), beside a minimal express + better-sqlite3 server doing the same
lookup on the same catalog file with one prepared statement (\`scripts/bench/kernel-baseline.ts\`).

- Start-up: from spawning the process to the first \`200\` from \`/health/ready\` (polled every
  5 ms), and resident memory (VmRSS) at that moment; ${STARTS} starts each, median and best.
- Lookup: \`GET /api/v1/products/${SKU}\` under autocannon (in the bench process), ${CONNECTIONS}
  connections, ${SECONDS} s per run after a 1 s warm-up, ${ROUNDS} round(s) alternating between the two
  servers; medians. The kernel's side does everything a request gets in production: bearer JWT
  check (HS256), request id and context, a pino JSON line per request at the default \`info\` level
  (stdout discarded), Prometheus metrics, zod validation of the path, problem+json edge; the
  baseline does none of it. RSS of the kernel after the load: ${f(appRss)} MB.

${table(['start-up', 'ready ms (median)', 'ready ms (best)', 'RSS MB'], startRows)}

\`npm start\` and \`npm run service\` run their entry from a build kept in
\`node_modules/.cache/start\` (\`scripts/start.ts\`, \`scripts/start-cache.ts\`, decision 30): the
bundle an image runs, made again when a source file it holds, a lockfile or Node changed
(each input's mtime and size, ~190 files, checked at every start). Making both builds before the
first timed start took ${f(buildMs)} ms (when this checkout's builds were already fresh, this is only their freshness check); making the monolith's
again, as the first start after a change to a source file does, ${f(rebuildMs)} ms. With \`OTEL_*\`
export set, npm start runs from source (the "from source" row), since OpenTelemetry's
instrumentations patch express, pg and ioredis as they load from \`node_modules\`.

${table(['server', 'req/s', 'vs baseline', 'CPU ms / request', 'baseline CPU / this CPU', 'p50 ms', 'p99 ms', 'errors + non-2xx'], loadRows)}

"Baseline CPU / this CPU" is the same comparison in CPU time per request served (user + system
from /proc, medians over the rounds): what throughput would be with a core each, and steadier than
req/s on this shared machine, whose other load moves by tens of percent within seconds.

Where start-up went from source, and still goes for \`node src/main.ts\`: resolving and reading
~1,750 files one by one (~150 of ours, the rest packages'), each with its own lookups of
\`package.json\` files and its own compile; the build holds them in ~70 files. Before that,
loading drizzle-orm's ES-module build. Node 24's ESM loader re-reads
drizzle-orm's 178 KB \`package.json\` for each of its files it loads (hundreds: the core, pg-core,
sqlite-core and both drivers). \`src/main.ts\` therefore resolves drizzle-orm to its CommonJS
build (\`src/platform/kernel/load-drizzle-as-commonjs.ts\`), which reads that file once; the
\`scripts/bench/monolith-without-hooks.ts\` row is the same app without that hook. Start-up figures on this machine swing
with other processes' load (a 2-core box shared with test runs): compare rows of the same run.

What the embedded default no longer loads at start: \`pg\` and drizzle's node-postgres driver
(loaded by \`openModuleStore\`/\`migrateModules\` only for a Postgres store), \`bullmq\` and
\`ioredis\` with their dependencies (semver, cron-parser, msgpackr, luxon: about 300 files,
loaded by \`createEventBus\` only with \`BUS=bullmq\`); the OpenTelemetry SDK was already loaded
only when \`OTEL_*\` asks for export. And a warm start no longer strips types from and compiles
every source file again: the first start-up hook (\`src/platform/kernel/compile-cache.ts\`)
turns on Node's on-disk compile cache, which keeps each file's stripped TypeScript and V8 code
(in \`NODE_COMPILE_CACHE\`, else the OS temp dir): about a fifth less CPU to ready in trials
(~900 → ~720 ms), and the WAL checkpoint worker thread, which inherits it, no longer loads a
TypeScript stripper of its own (~16 MB). Every row here runs with that cache filled (it outlives a
data dir: "fresh" is a fresh DATA_DIR); the first start of a checkout pays the full compile once.

Where a warm start of npm start's build goes (a V8 profile of one start, 2026-12-02, 654 ms with
the profiler on): Node's own start ~75 ms; the launcher and its freshness check (~190 stats)
~33 ms; reading and compiling the build's ~70 files from the compile cache ~65 ms, where from
source the loader's lookups alone took ~300 ms; running the code as it loads ~260 ms, most of it
zod building the schemas of every route and contract (75–90 ms), drizzle's table builders
(17–25 ms), the platform's kernel, edge and stores (~45 ms), pino, prom-client and mime-types'
table (~30 ms together); better-sqlite3's addon and ten connections ~46 ms; GC ~47 ms. What is
left to take is the work itself, chiefly the zod schemas built at load rather than on first use.

Where a warm start from source went before that build (phases timed inside the process, 2026-11-30, a quiet moment): Node
itself and the start-up hooks (OpenTelemetry API and W3C propagator) ~60–100 ms; importing the
platform ~375 ms and +56 MB RSS before the compile cache (zod 65–110 ms, express ~75 ms and
~8 MB, drizzle core with its SQLite and Postgres table builders ~120 ms, prom-client, jose,
cockatiel, and Node's TypeScript stripping of ~150 source files); loading the five modules
~90 ms; \`createApp\` to listening ~125 ms and +44 MB (five stores of two connections each, the
OpenAPI documents built from the routes ~40 ms; the SQLite WAL checkpoint worker thread, counted
here then, now starts at the first write instead, decision 15).

Where resident memory goes at ready (\`npm start\`, warm; heap statistics and /proc/<pid>/smaps
in a trial, 2026-12-01): ~50 MB is the node binary's own pages, ~49 MB V8's heap (old space
~23 MB: the code and closures of ~850 files, a third of it their source text, which V8 keeps;
young generation 16 MB; large objects ~4.5 MB), ~13 MB malloc (SQLite's page caches, ten
connections). What \`npm start\` no longer carries: Node's TypeScript stripper (~17 MB: a
WebAssembly module and its memory), which loaded for the entry file alone because the compile
cache came on after it was read — \`npm start\` now preloads the cache
(\`--import ./src/platform/kernel/compile-cache-preload.mjs\`), so a warm start strips nothing; the
SQLite WAL checkpoint worker thread (~14 MB: an isolate of its own), which now starts at the
first commit that writes to a WAL (\`src/platform/data/wal-checkpointer.ts\`) — a warm start's
seeding finds its rows and commits nothing, and a lookup only reads, so this bench's server never
starts it; a server taking orders does at its first one; and ~15 MB of young generation (below).

The young generation: start-up's allocation burst grows it to its maximum and V8 keeps the pages
(with V8's default, ~31 MB physical at ready with under 1 MB in use), and under load it stays
there. \`npm start\`, \`npm run service\` and every app image's CMD therefore pass
\`--max-semi-space-size=8\` (defined once, \`scripts/deploy/runtime-flags.ts\`). The table: the
start command with each size, side by side on the same warm data (RSS at ready, after ${YOUNG_ROUNDS}
rounds of ${PAIR_SECONDS} s of the lookup each); GC count and pause time per 1,000 requests (the server's own
\`gc\` performance entries: \`scripts/bench/gc-tally.mjs\`); CPU per request, and its ratio to V8's
default within each round (the servers run once per round in a rotating order; median of the rounds'
ratios). A smaller young generation collects more often; what each collection costs is what
survives it, which a request-scoped allocation mostly does not.

${table(['young generation', 'RSS at ready MB', 'RSS after load MB', 'GCs / 1,000 req', 'GC pauses ms / 1,000 req (wall clock)', 'CPU ms / request', 'CPU vs V8 default'], young.map((y) => [y.flag, f(y.readyMb), f(y.afterMb), f(y.gcPer1000, 1), f(y.gcMsPer1000, 1), f(y.cpuPerRequestMs, 3), f(y.cpuVsDefault, 2)]))}

Where the lookup's time goes. \`node --cpu-prof\` samples wall time on the main thread, so a
system call the process is descheduled in (the socket \`writev\`, SQLite's \`fcntl\` locks) looks
bigger there than in CPU time; \`perf\` gives the CPU split. Before the edge work (2026-12-01,
V8 profile, shares of busy time): socket \`writev\` 31 %; drizzle's prepared read 30 % — its
\`LIMIT ?\` on a primary-key lookup doubled SQLite's step (a statement without it costs half in
a micro-benchmark), so it is gone; express and its router 7 %; pino, its mixin and redaction
4 %; four middlewares of our own (request context, path guard, metrics and log, draining mark) with
prom-client's label lookups ~3 %; OpenTelemetry context 1.5 %; GC 3 %. After: \`writev\` 29 %,
the SQLite step 14 %, express and its router ~10 % (now the largest piece of JavaScript), GC
~5 %, the edge middleware with its access line, plain-number metrics and request scope ~4 %
(\`src/platform/http/edge.ts\`), OpenTelemetry context 1.5 %, zod under 1 %, the JWT check (a
cache hit) under 0.5 %, the ETag (\`crypto.hash\`) 0.4 %. In CPU time (\`perf\`, same load):
V8 and our JavaScript ~70 %, the Linux kernel (socket write, loopback) ~21 %, libc 5 %, SQLite
3 %. Then (decision 19) a JSON answer sets its three headers itself rather than through express's
\`res.json\`/\`res.send\` (which parsed the content type twice, read four settings and copied the body
for its ETag; conditional requests and HEAD still go to express), and the \`traceparent\` answer header
is formatted without the propagator's carrier: 9–12 % less CPU per request in alternating rounds
against the commit before; the declared routes are dispatched from one list per method instead of
express walking each module's router and route layers (\`src/platform/http/route-table.ts\`, ~8 %
less), and /api's token check and body run in one layer with a remembered token taken without a
promise (~3 % less, within this machine's noise). What is left is express's router and Node's HTTP stack, which the
baseline pays too, and a dozen small pieces of ours. The system calls of a lookup under this load
(\`strace -c\` on the server, 2026-12-01): one \`read\`, one \`write\` and two \`fcntl\` (SQLite's
shared lock on the WAL index, taken and released by every read transaction; only an exclusive
locking mode would drop them, and the reader connection and the checkpoint thread need the file
shared), with the access log's writes batched away.

The figure: the kernel serves **${f(ratio, 2)}×** the bare handler's throughput on this lookup (**${f(b.cpu / k.cpu, 2)}×** in CPU time per request).

### Tracing

The same lookup on the same data, with tracing off and on, both servers started from source (with
\`OTEL_*\` export set npm start runs from source, so the pair compares like with like):
\`OTEL_EXPORTER_OTLP_ENDPOINT\` set, the default sampler (\`parentbased_always_on\`: every request
is recorded), the default instrumentations (http client, undici, pg, ioredis) loaded by the
start-up hook, and spans exported over OTLP/HTTP (protobuf) in batches to a local sink standing in
for a collector, a process of its own (\`scripts/bench/trace-sink.ts\`), which counts the spans it
receives: ${exported.spans} spans (${f(exportedMb, 1)} MB) for the ${tracedLookups} lookups tracing on
was sent, and a run that lost any is refused (the SDK drops spans silently once its
queue of 2,048 is full; with the sink inside the bench process, answering from the event loop that
drives the load, an export could wait while the queue filled, and nothing counted what was lost). Each request records one server
span, the app's own, named by its route (\`src/platform/http/request-context.ts\`, opened by \`edge.ts\`). Measured while
choosing the defaults: the http instrumentation's own server span plus the express
instrumentation (a span per handler, a wrapper on every router layer) cost about 40 % of this
lookup's throughput, which is why the first is replaced and the second is opt-in
(\`OTEL_NODE_ENABLED_INSTRUMENTATIONS\`, see [tracing.md](tracing.md)).

${TRACING_PAIRS} pairs of ${PAIR_SECONDS} s runs, tracing off and on back to back (which goes first alternates),
after the rounds above, in which each served the same load (so neither enters the pairs better
optimised by the JIT; before, tracing off had only a second of warm-up and tracing on the rounds).
The figure is CPU time per request: the server's CPU time (user + system from /proc, so the span
export's own work counts) over the requests it served in the run, and each pair's on/off ratio is
one sample, the median of them the figure — what tracing adds to each request's work, which the
load of other processes on this shared machine moves far less than it moves throughput. Req/s and
p99 are medians over the pairs, with the median of each pair's req/s ratio. In the rounds above,
with ${SECONDS} s runs further apart, tracing on served ${f(t.rps)} req/s (median; p99 ${t.p99} ms).

${table(['server', 'CPU ms / request', 'vs tracing off', 'req/s', 'vs tracing off', 'p99 ms'], tracingRows)}

${tracingVerdict(extraCpu, pairRatio, pairs.length, [quantile(cpuRatios, 0.25), quantile(cpuRatios, 0.75)])}
`,
    );
  } finally {
    for (const c of children) await stop(c).catch(() => {});
    for (const s of sinks) await s.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
