// Bench: the cost of extraction for one contract call. catalog.getProduct in-process (the binding
// a module gets when the provider runs beside it) vs remote over loopback (the HTTP binding with
// service credentials, timeout, breaker and bulkhead, against the monolith's internal endpoint in
// another process). Sequential calls for latency (p50/p99), then 16 in flight for throughput.
// Writes the `contracts` section of docs/benchmarks.md.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/platform/config/env.ts';
import { BENCH_SERVICE_SECRET, benchKeysEnv } from './keys.ts';
import { createApp } from '../../src/platform/kernel/create-app.ts';
import { resolveTopology, emptyTopology } from '../../src/platform/kernel/topology.ts';
import { instancePool } from '../../src/platform/remote/instance-pool.ts';
import { bindRemote, modulePolicies } from '../../src/platform/remote/remote-binding.ts';
import { serviceCredentials } from '../../src/platform/remote/service-credentials.ts';
import { system } from '../../src/composition-root.ts';
import { catalogContract, catalogManifest } from '../../src/modules/catalog/index.ts';
import { table, writeSection } from './report.ts';
import { freePort, percentile, waitReady } from './harness.ts';

const root = resolve(import.meta.dirname, '../..');
const CALLS = Number(process.env.BENCH_CALLS ?? 3000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SKU = 'TEA-GREEN-100';

type Call = () => Promise<unknown>;




/** `n` sequential calls, each timed (ms). */
async function sequential(call: Call, n: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await call();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return samples;
}

/** Calls per second with CONCURRENCY in flight, for `n` calls. */
async function throughput(call: Call, n: number): Promise<number> {
  let started = 0;
  const t = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (started < n) {
        started++;
        await call();
      }
    }),
  );
  return n / (Number(process.hrtime.bigint() - t) / 1e9);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<void> {
  const dataIn = mkdtempSync(join(tmpdir(), 'bench-contracts-in-'));
  const dataOut = mkdtempSync(join(tmpdir(), 'bench-contracts-out-'));
  const missingTopology = join(dataIn, 'no-topology.json');
  // Request logging at info as in production (the provider's stdout goes to /dev/null).
  const common = { ...benchKeysEnv, LOG_LEVEL: 'info', SEED: 'true', TOPOLOGY_FILE: missingTopology, BUS: 'inprocess' };

  // In-process: the catalog beside its caller.
  // An in-process call writes no log line, so this side's level changes no figure; warn keeps its start-up lines off the console.
  const config = loadConfig({ ...common, LOG_LEVEL: 'warn', DATA_DIR: dataIn });
  const app = await createApp({ config, manifests: [catalogManifest], modules: [await system.load('catalog')], deployable: 'monolith', topology: resolveTopology(emptyTopology(), config) });
  const local = app.contract(catalogContract);

  // Remote: the monolith in another process, called over loopback through the HTTP binding.
  const port = await freePort();
  const internalPort = await freePort();
  const provider = spawn(process.execPath, [join(root, 'src/main.ts')], {
    cwd: root,
    env: { ...process.env, ...common, DATA_DIR: dataOut, PORT: String(port), INTERNAL_PORT: String(internalPort), HOST: '127.0.0.1' },
    stdio: 'ignore',
  });
  // Contracts are served on the internal listener.
  const pool = instancePool({ module: 'catalog', instances: [`http://127.0.0.1:${internalPort}`], maxSockets: 32 });
  try {
    await waitReady(`http://127.0.0.1:${port}`, provider);
    const remote = bindRemote(catalogContract, {
      pool,
      policies: modulePolicies('catalog', { timeoutMs: 2_000, retries: 2, backoffMs: 50, breakerFailures: 5, halfOpenAfterMs: 5_000, bulkhead: 64, bulkheadQueue: 256 }),
      credentials: serviceCredentials({ secret: BENCH_SERVICE_SECRET, deployable: 'bench' }),
    });
    const calls: [string, Call][] = [
      ['in-process', () => local.getProduct({ sku: SKU })],
      ['remote (HTTP over loopback)', () => remote.getProduct({ sku: SKU })],
    ];
    // Interleaved rounds: both bindings see the same machine (other processes come and go on a
    // shared host), and each figure is pooled (latency) or the median (throughput) over rounds.
    for (const [, call] of calls) for (let i = 0; i < WARMUP; i++) await call();
    const samples = new Map<string, number[]>(calls.map(([name]) => [name, []]));
    const rates = new Map<string, number[]>(calls.map(([name]) => [name, []]));
    const perRound = Math.ceil(CALLS / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, call] of calls) samples.get(name)!.push(...(await sequential(call, perRound)));
      for (const [name, call] of calls) rates.get(name)!.push(await throughput(call, perRound));
    }
    const rows: (string | number)[][] = [];
    const figures: Record<string, { p50: number; p99: number; rps: number }> = {};
    for (const [name] of calls) {
      const sorted = samples.get(name)!.sort((x, y) => x - y);
      const l = { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: sorted.reduce((x, y) => x + y, 0) / sorted.length };
      const rps = median(rates.get(name)!);
      figures[name] = { p50: l.p50, p99: l.p99, rps };
      console.log(`${name}: p50 ${l.p50.toFixed(3)} ms, p99 ${l.p99.toFixed(3)} ms, ${Math.round(rps)} calls/s at ${CONCURRENCY} in flight`);
      rows.push([name, l.p50.toFixed(3), l.p99.toFixed(3), l.mean.toFixed(3), Math.round(rps)]);
    }
    const [a, b] = [figures['in-process']!, figures['remote (HTTP over loopback)']!];
    writeSection(
      'contracts',
      `## Contract call: in-process vs remote (the cost of extraction)

\`catalog.getProduct\` (one SQLite read), ${CALLS} sequential calls after ${WARMUP} warm-up for latency, then
${CALLS} calls with ${CONCURRENCY} in flight for throughput. Remote = the HTTP binding (service JWT, timeout,
breaker, bulkhead, schema on both sides) against the monolith's internal endpoint in another process.

${table(['binding', 'p50 ms', 'p99 ms', 'mean ms', `calls/s (${CONCURRENCY} in flight)`], rows)}

Remote costs ${(b.p50 / a.p50).toFixed(1)}× the in-process p50 (+${(b.p50 - a.p50).toFixed(2)} ms) and ${(b.p99 / a.p99).toFixed(1)}× its p99;
throughput is ${((b.rps / a.rps) * 100).toFixed(0)}% of in-process. A use case that makes several contract calls pays this per call,
which is why queries that cross modules in a loop belong in one batched operation (\`priceItems\`).`,
    );
  } finally {
    pool.close();
    provider.kill('SIGTERM');
    await new Promise((r) => (provider.exitCode !== null ? r(undefined) : provider.once('exit', r)));
    await app.stop();
    rmSync(dataIn, { recursive: true, force: true });
    rmSync(dataOut, { recursive: true, force: true });
  }
}
