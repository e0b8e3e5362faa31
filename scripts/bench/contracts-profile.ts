// Not a bench section: a steady-state probe of one remote contract path, for profiling and A/B
// work. The contracts bench mixes short interleaved rounds with the in-process binding in the same
// process, so its CPU figures move with everything else; this runs only the remote binding for
// many calls and prints calls/s and CPU µs per call of both processes.
//
//   node scripts/bench/contracts-profile.ts                 16 in flight (batched), as the bench
//   MODE=seq node scripts/bench/contracts-profile.ts        one call at a time (the p50 path)
//   C=2|4|8|32, BMAX=8 (REMOTE_BATCH_MAX), N=calls          concurrency sweep: CPU per request = a + b·batch size
//   STUB=1                                                  a bare node:http provider: the caller's cost alone
//   PROVIDER_PROF=<dir>                                     the provider runs with --cpu-prof into <dir>
// and `node --cpu-prof scripts/bench/contracts-profile.ts` profiles the caller.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BENCH_SERVICE_SECRET, benchKeysEnv } from './keys.ts';
import { instancePool } from '../../src/platform/remote/instance-pool.ts';
import { bindRemote, modulePolicies } from '../../src/platform/remote/remote-binding.ts';
import { serviceCredentials } from '../../src/platform/remote/service-credentials.ts';
import { catalogContract } from '../../src/modules/catalog/index.ts';
import { freePort, waitReady } from './harness.ts';

const root = resolve(import.meta.dirname, '../..');
const N = Number(process.env.N ?? 20_000);
const C = Number(process.env.C ?? 16);
const SEQUENTIAL = process.env.MODE === 'seq';
const SKU = 'TEA-GREEN-100';

// What the catalog answers for SKU, for the stub provider (no Express, no store, no checks).
const STUB_SOURCE = `
const http = require('node:http');
const product = { sku: '${SKU}', name: 'Green tea', description: 'Stub', priceMinor: 450, currency: 'EUR', version: 1, updatedAt: new Date().toISOString() };
const one = JSON.stringify({ output: product });
http.createServer({ keepAliveTimeout: 5000 }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const n = req.url.endsWith('/batch') ? JSON.parse(Buffer.concat(chunks).toString()).calls.length : 0;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(n ? JSON.stringify({ results: Array.from({ length: n }, () => ({ output: product })) }) : one);
  });
}).listen(Number(process.argv[1]), '127.0.0.1', () => console.log('ready'));
`;

/** CPU time (ms) of another process, from /proc (clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const dataDir = mkdtempSync(join(tmpdir(), 'contracts-profile-'));
const port = await freePort();
const internalPort = await freePort();
const profiled = process.env.PROVIDER_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROVIDER_PROF}`] : [];
const provider = process.env.STUB
  ? spawn(process.execPath, ['-e', STUB_SOURCE, String(internalPort)], { stdio: ['ignore', 'pipe', 'inherit'] })
  : spawn(process.execPath, [...profiled, join(root, 'src/main.ts')], {
      cwd: root,
      env: { ...process.env, ...benchKeysEnv, LOG_LEVEL: 'info', SEED: 'true', TOPOLOGY_FILE: join(dataDir, 'none.json'), BUS: 'inprocess', DATA_DIR: dataDir, PORT: String(port), INTERNAL_PORT: String(internalPort), HOST: '127.0.0.1' },
      stdio: 'ignore',
    });
const pool = instancePool({ module: 'catalog', instances: [`http://127.0.0.1:${internalPort}`], maxSockets: 32 });
try {
  if (process.env.STUB) await new Promise((r) => provider.stdout!.once('data', r));
  else await waitReady(`http://127.0.0.1:${port}`, provider);
  const remote = bindRemote(catalogContract, {
    pool,
    policies: modulePolicies('catalog', { timeoutMs: 2_000, retries: 2, backoffMs: 50, breakerFailures: 5, halfOpenAfterMs: 5_000, bulkhead: 64, bulkheadQueue: 256 }),
    credentials: serviceCredentials({ secret: BENCH_SERVICE_SECRET, deployable: 'bench' }),
    batchMax: Number(process.env.BMAX ?? 64),
  });
  const call = () => remote.getProduct({ sku: SKU });
  const run = async (n: number) => {
    if (SEQUENTIAL) for (let i = 0; i < n; i++) await call();
    else {
      let started = 0;
      await Promise.all(Array.from({ length: C }, async () => { while (started++ < n) await call(); }));
    }
  };
  await run(2_000);
  const own = process.cpuUsage();
  const other = processCpuMs(provider.pid!);
  const t = performance.now();
  await run(N);
  const seconds = (performance.now() - t) / 1000;
  const used = process.cpuUsage(own);
  const provided = processCpuMs(provider.pid!) - other;
  console.log(
    `${SEQUENTIAL ? 'sequential' : `${C} in flight, batches of up to ${process.env.BMAX ?? 64}`}${process.env.STUB ? ', stub provider' : ''}: ${N} calls, ${Math.round(N / seconds)} calls/s, ` +
      `caller ${Math.round((used.user + used.system) / N)} µs/call, provider ${Math.round((provided * 1000) / N)} µs/call`,
  );
} finally {
  pool.close();
  provider.kill('SIGINT');
  await new Promise((r) => (provider.exitCode !== null ? r(undefined) : provider.once('exit', r)));
  rmSync(dataDir, { recursive: true, force: true });
}
