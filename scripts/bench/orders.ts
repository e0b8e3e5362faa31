// Order placement end to end: orders per second reaching CONFIRMED and the p50/p99 time from
// POST to CONFIRMED, on the embedded default (SQLite, in-process bus) and on Postgres + BullMQ,
// side by side in one run. Each runs the real monolith as a child process on 127.0.0.1.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { mintToken } from '../../src/platform/auth/jwt.ts';
import { DEV_JWT_SECRET, loadConfig } from '../../src/platform/config/env.ts';
import { migrateModules } from '../../src/platform/data/migrate.ts';
import { loadModules } from '../../src/composition-root.ts';
import { manifests } from '../../src/manifests.ts';
import { table, writeSection } from './report.ts';

const root = resolve(import.meta.dirname, '../..');
const ORDERS = Number(process.env.BENCH_ORDERS ?? 400);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 32);

interface Result { name: string; confirmed: number; seconds: number; p50: number; p99: number }

const pct = (xs: number[], p: number) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

async function waitReady(base: string) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${base}/health/ready`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${base} not ready`);
}

async function runOne(name: string, env: Record<string, string>, port: number): Promise<Result> {
  const child = spawn(process.execPath, ['src/main.ts'], { cwd: root, env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'error', SEED: 'false' }, stdio: 'inherit' });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitReady(base);
    const admin = { authorization: `Bearer ${await mintToken({ sub: 'bench-admin', scopes: ['admin'], secret: DEV_JWT_SECRET })}`, 'content-type': 'application/json' };
    const sku = `BENCH-${randomBytes(3).toString('hex').toUpperCase()}`;
    await fetch(`${base}/api/v1/products`, { method: 'POST', headers: admin, body: JSON.stringify({ sku, name: 'Bench', priceMinor: 100, currency: 'EUR' }) });
    await fetch(`${base}/api/v1/inventory/${sku}/restock`, { method: 'POST', headers: admin, body: JSON.stringify({ quantity: 1_000_000 }) });
    const customers = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => mintToken({ sub: `bench-${i}`, secret: DEV_JWT_SECRET })));
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      customers.map(async (token) => {
        const h = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
        while (next < ORDERS) {
          next++;
          const t0 = performance.now();
          const res = await fetch(`${base}/api/v1/orders`, { method: 'POST', headers: h, body: JSON.stringify({ items: [{ sku, quantity: 1 }] }) });
          const { id } = (await res.json()) as { id: string };
          for (;;) {
            const o = (await (await fetch(`${base}/api/v1/orders/${id}`, { headers: h })).json()) as { status: string };
            if (o.status === 'CONFIRMED') break;
            if (o.status === 'CANCELLED') throw new Error(`bench order cancelled: ${JSON.stringify(o)}`);
            await new Promise((r) => setTimeout(r, 20));
          }
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { name, confirmed: latencies.length, seconds, p50: pct(latencies, 50), p99: pct(latencies, 99) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
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
    const modules = await loadModules(manifests.map((m) => m.name));
    await migrateModules(modules.map((m) => m.schema), loadConfig({ DATABASE_URL: dbUrl, LOG_LEVEL: 'silent' }));
    const results = [
      await runOne('embedded: SQLite + in-process bus', { DATA_DIR: dir }, 3411),
      await runOne('Postgres + BullMQ', { DATABASE_URL: dbUrl, BUS: 'bullmq', REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', BUS_PREFIX: `bench-${dbName}`, PG_POOL_MAX: '8' }, 3412),
    ];
    const rows = results.map((r) => [r.name, r.confirmed, (r.confirmed / r.seconds).toFixed(1), r.p50.toFixed(1), r.p99.toFixed(1)]);
    writeSection(
      'orders',
      `## Order placement, POST to CONFIRMED (\`npm run bench -- orders\`)

${ORDERS} orders from ${CLIENTS} concurrent customers; each posts an order and polls it until CONFIRMED
every 20 ms (the saga: price → reserve → charge → commit → confirm, with the outbox, inbox and history projection
running). The real monolith runs as a child process.

${table(['topology', 'orders confirmed', 'orders/s', 'p50 ms', 'p99 ms'], rows)}

Ratio Postgres+BullMQ / embedded throughput: **${(results[1]!.confirmed / results[1]!.seconds / (results[0]!.confirmed / results[0]!.seconds)).toFixed(2)}**.`,
    );
    console.table(results);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
}
