// Order placement end to end: orders per second reaching CONFIRMED and the p50/p99 time from
// POST to CONFIRMED, on the embedded default (SQLite, in-process bus) and on Postgres + BullMQ,
// side by side in one run. Each runs the real monolith as a child process on 127.0.0.1.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { mintToken } from '../../src/platform/auth/jwt.ts';
import { loadConfig } from '../../src/platform/config/env.ts';
import { BENCH_JWT_SECRET, benchKeysEnv } from './keys.ts';
import { migrateModules } from '../../src/platform/data/migrate.ts';
import { system } from '../../src/composition-root.ts';
import { loadAll } from '../../src/platform/modules/system.ts';
import { manifests } from '../../src/manifests.ts';
import { table, writeSection } from './report.ts';
import { percentile, waitReady } from './harness.ts';
import { checkOrdersRun } from './orders-checks.ts';

const root = resolve(import.meta.dirname, '../..');
const ORDERS = Number(process.env.BENCH_ORDERS ?? 2000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 32);

interface Result { name: string; confirmed: number; cancelled: number; seconds: number; p50: number; p99: number }

const rate = (r: Result) => r.confirmed / r.seconds;


/** Starts the deployables: the monolith, plus one service per extracted module (BullMQ between them). */
async function startDeployables(env: Record<string, string>, port: number, extracted: string[]) {
  const common: Record<string, string | undefined> = { ...process.env, ...benchKeysEnv, ...env, HOST: '127.0.0.1', LOG_LEVEL: 'error', SEED: 'false' };
  const children = [];
  if (extracted.length) {
    const topology = join(mkdtempSync(join(tmpdir(), 'bench-topology-')), 'topology.json');
    // The topology names internal listeners (PORT + 1000 by default): that is where contracts are served.
    const modules = Object.fromEntries(extracted.map((m, i) => [m, { state: 'remote', urls: [`http://127.0.0.1:${port + 1 + i + 1000}`] }]));
    writeFileSync(topology, JSON.stringify({ monolith: { urls: [`http://127.0.0.1:${port + 1000}`] }, modules }));
    common.TOPOLOGY_FILE = topology;
    for (const [i, m] of extracted.entries()) {
      children.push(spawn(process.execPath, ['src/service.ts', m], { cwd: root, env: { ...common, PORT: String(port + 1 + i) }, stdio: 'inherit' }));
      await waitReady(`http://127.0.0.1:${port + 1 + i}`);
    }
  }
  children.push(spawn(process.execPath, ['src/main.ts'], { cwd: root, env: { ...common, PORT: String(port) }, stdio: 'inherit' }));
  return children;
}

const STOCK = 1_000_000;

async function runOne(name: string, env: Record<string, string>, port: number, extracted: string[] = []): Promise<Result> {
  const children = await startDeployables(env, port, extracted);
  const base = `http://127.0.0.1:${port}`;
  let sku = '';
  const latencies: number[] = [];
  let cancelled = 0;
  let seconds = 0;
  try {
    await waitReady(base);
    const admin = { authorization: `Bearer ${await mintToken({ sub: 'bench-admin', scopes: ['admin'], secret: BENCH_JWT_SECRET })}`, 'content-type': 'application/json' };
    sku = `BENCH-${randomBytes(3).toString('hex').toUpperCase()}`;
    await fetch(`${base}/api/v1/products`, { method: 'POST', headers: admin, body: JSON.stringify({ sku, name: 'Bench', priceMinor: 100, currency: 'EUR' }) });
    // Restocking is inventory's route: the monolith's when it runs there, else its service's.
    const inventoryBase = extracted.includes('inventory') ? `http://127.0.0.1:${port + 1 + extracted.indexOf('inventory')}` : base;
    const stocked = await fetch(`${inventoryBase}/api/v1/inventory/${sku}/restock`, { method: 'POST', headers: admin, body: JSON.stringify({ quantity: STOCK }) });
    if (!stocked.ok) throw new Error(`restock failed: ${stocked.status} ${await stocked.text()}`);
    const customers = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => mintToken({ sub: `bench-${i}`, secret: BENCH_JWT_SECRET })));
    let next = 0;
    const started = performance.now();
    await Promise.all(
      customers.map(async (token) => {
        const h = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
        while (next < ORDERS) {
          next++;
          const t0 = performance.now();
          const res = await fetch(`${base}/api/v1/orders`, { method: 'POST', headers: h, body: JSON.stringify({ items: [{ sku, quantity: 1 }] }) });
          if (res.status !== 202) throw new Error(`placing an order answered ${res.status}: ${await res.text()}`);
          const { id } = (await res.json()) as { id: string };
          // The product's long-poll: the answer comes when the order is final (or after 10 s, then again).
          for (let polls = 0; ; polls++) {
            if (polls > 30) throw new Error(`order ${id} still PENDING after ${polls} long-polls`);
            const o = (await (await fetch(`${base}/api/v2/orders/${id}?waitSeconds=10`, { headers: h })).json()) as { state: { code: string } };
            if (o.state.code === 'CONFIRMED') {
              latencies.push(performance.now() - t0);
              break;
            }
            if (o.state.code === 'CANCELLED') {
              cancelled++;
              break;
            }
          }
        }
      }),
    );
    seconds = (performance.now() - started) / 1000;
  } finally {
    for (const child of children.reverse()) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }
  // The figure counts only if the stores agree with what the clients saw.
  const outcome = await checkOrdersRun(loadConfig({ ...benchKeysEnv, ...env, LOG_LEVEL: 'silent' }), sku, STOCK, latencies.length);
  if (outcome.orders !== latencies.length + cancelled) throw new Error(`${outcome.orders} orders in the store, ${latencies.length + cancelled} placed`);
  return { name, confirmed: latencies.length, cancelled, seconds, p50: percentile(latencies.sort((a, b) => a - b), 50), p99: percentile(latencies, 99) };
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-orders-'));
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const dbName = `bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = Object.assign(new URL(adminUrl), { pathname: `/${dbName}` }).toString();
  try {
    const modules = await loadAll(system);
    await migrateModules(modules.map((m) => m.schema), loadConfig({ ...benchKeysEnv, DATABASE_URL: dbUrl, LOG_LEVEL: 'silent' }));
    const redis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const cases: [string, () => Promise<Result>][] = [
      ['embedded', () => runOne('embedded: SQLite + in-process bus, all in one process', { DATA_DIR: dir }, 3411)],
      ['extracted', () => runOne('SQLite + BullMQ, inventory and payments extracted', { DATA_DIR: join(dir, 'split'), BUS: 'bullmq', REDIS_URL: redis, BUS_PREFIX: `bench-split-${dbName}` }, 3421, ['inventory', 'payments'])],
      ['postgres', () => runOne('Postgres + BullMQ, all in one process', { DATABASE_URL: dbUrl, BUS: 'bullmq', REDIS_URL: redis, BUS_PREFIX: `bench-${dbName}`, PG_POOL_MAX: '8' }, 3431)],
    ];
    // BENCH_ORDERS_CASES=postgres (comma-separated) runs a subset for profiling; only a full run writes the doc.
    const only = process.env.BENCH_ORDERS_CASES?.split(',').map((c) => c.trim()).filter(Boolean);
    if (only?.length) {
      const partial = [];
      for (const [key, go] of cases) if (only.includes(key)) partial.push(await go());
      console.table(partial);
      return;
    }
    const results = [];
    for (const [, go] of cases) results.push(await go());
    const rows = results.map((r) => [r.name, r.confirmed, (r.confirmed / r.seconds).toFixed(1), r.p50.toFixed(1), r.p99.toFixed(1)]);
    writeSection(
      'orders',
      `## Order placement, POST to CONFIRMED (\`npm run bench -- orders\`)

${ORDERS} orders from ${CLIENTS} concurrent customers; each posts an order and polls it until CONFIRMED
every 20 ms (the saga: price → reserve → charge → commit → confirm, with the outbox, inbox and history projection
running). The real monolith runs as a child process.

${table(['topology', 'orders confirmed', 'orders/s', 'p50 ms', 'p99 ms'], rows)}

Throughput relative to the embedded default: extracted **${(rate(results[1]!) / rate(results[0]!)).toFixed(2)}**, Postgres + BullMQ **${(rate(results[2]!) / rate(results[0]!)).toFixed(2)}**.
The extracted row pays an HTTP hop (service credential, breaker, schema on both sides) for each
of the saga's four contract calls, and BullMQ between the processes.
The Postgres row is bound by the monolith's CPU (under 5% idle in a CPU profile), not by its pools
or locks: every statement is a round trip, and writing to the sockets is about a third of that CPU,
building queries in drizzle a fifth. An order takes about 64 statements (place, claim, four steps
and their saves, outbox relay, inbox, projections), plus one for each of the bench's polls.`,
    );
    console.table(results);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
}
