// Order placement end to end: orders per second reaching CONFIRMED and the p50/p99 time from
// POST to CONFIRMED, on the embedded default (SQLite, in-process bus) and on Postgres + BullMQ,
// side by side in one run. Each runs the real monolith as a child process on 127.0.0.1.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { mintToken } from '../../src/platform/auth/jwt.ts';
import { loadConfig } from '../../src/platform/config/env.ts';
import { BENCH_JWT_SECRET, benchKeysEnv } from './keys.ts';
import { migrateModules } from '../../src/platform/data/migrate.ts';
import { system } from '../../src/composition-root.ts';
import { loadAll } from '../../src/platform/modules/system.ts';
import { manifests } from '../../src/manifests.ts';
import { table, writeSection } from './report.ts';
import { benchDatabase, deleteRedisKeys, flagsOf, percentile, scriptArgs, waitReady } from './harness.ts';
import { checkOrdersRun } from './orders-checks.ts';
import { machineContextSwitches, treeCpuMs, treeWriteSyscalls } from './proc-figures.ts';

const root = resolve(import.meta.dirname, '../..');
// Long enough that each process's warm-up (its first second or so: code compiled, statements
// prepared, at ~60% of its later rate on the Xeon VM, BENCH_ORDERS_TIMELINE=1) is a small part of
// a round: at 2,000 it was a third of the embedded row's rounds on that VM.
const ORDERS = Number(process.env.BENCH_ORDERS ?? 8000);
// The cases run in rounds, forward then backward (A B C C B A …), each round placing ORDERS / ROUNDS
// orders: a machine that gets busier or quieter during the run weighs on every case alike.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 32);
// The first orders a fresh process serves pay for its warm-up (code compiled, statements
// prepared, caches filled): the warm p99 leaves out each process's first WARM_UP orders.
const WARM_UP = 64;
// BENCH_ORDERS_TIMELINE=1: orders confirmed and the slowest of them per second, on stderr, to see
// when in a run the tail happens (warm-up, a checkpoint, a neighbour's burst).
const TIMELINE = process.env.BENCH_ORDERS_TIMELINE === '1';

interface Result {
  name: string;
  confirmed: number;
  cancelled: number;
  seconds: number;
  p50: number;
  p99: number;
  /** p99 without each process's first WARM_UP orders. */
  p99Warm: number;
  /** CPU time of every process of the topology (user + system) per order placed. */
  cpuMsPerOrder: number;
  /** Context switches of the whole machine per order placed: what round trips cost, counted. */
  switchesPerOrder: number;
  /** Write system calls of every process of the topology per order placed: its round trips and answers, counted. */
  writesPerOrder: number;
  latencies: number[];
  warm: number[];
  cpuMs: number;
  /** The bench's own CPU (its clients) over the load: on two cores it is taken from the topology. */
  clientCpuMs: number;
  /** Context switches of the whole machine over the load (NaN without /proc). */
  switches: number;
  /** Write system calls of the topology's processes over the load (NaN without /proc). */
  writes: number;
  /** Postgres commit groups the server refused over the load (their units went again alone; decision 37). */
  groupsRefused: number;
}

const rate = (r: Result) => r.confirmed / r.seconds;
// Request logs at info, as in production: written (to /dev/null) and paid for; errors still show.
const LOGS: ['ignore', 'ignore', 'inherit'] = ['ignore', 'ignore', 'inherit'];


// Each deployable starts as its package.json script starts it (`npm start`, `npm run service`): the
// same node flags (the young generation's size among them) as users run.
const START_FLAGS = flagsOf(scriptArgs('start'));
const SERVICE_FLAGS = flagsOf(scriptArgs('service'));

/** Starts the deployables: the monolith, plus one service per extracted module (BullMQ between them). */
async function startDeployables(env: Record<string, string>, port: number, extracted: string[]) {
  const common: Record<string, string | undefined> = { ...process.env, ...benchKeysEnv, ...env, HOST: '127.0.0.1', LOG_LEVEL: 'info', SEED: 'false' };
  const children = [];
  if (extracted.length) {
    const topology = join(mkdtempSync(join(tmpdir(), 'bench-topology-')), 'topology.json');
    // The topology names internal listeners (PORT + 1000 by default): that is where contracts are served.
    const modules = Object.fromEntries(extracted.map((m, i) => [m, { state: 'remote', urls: [`http://127.0.0.1:${port + 1 + i + 1000}`] }]));
    writeFileSync(topology, JSON.stringify({ monolith: { urls: [`http://127.0.0.1:${port + 1000}`] }, modules }));
    common.TOPOLOGY_FILE = topology;
    for (const [i, m] of extracted.entries()) {
      children.push(spawn(process.execPath, [...SERVICE_FLAGS, 'src/service.ts', m], { cwd: root, env: { ...common, PORT: String(port + 1 + i) }, stdio: LOGS }));
      await waitReady(`http://127.0.0.1:${port + 1 + i}`);
    }
  }
  children.push(spawn(process.execPath, [...START_FLAGS, 'src/main.ts'], { cwd: root, env: { ...common, PORT: String(port) }, stdio: LOGS }));
  return children;
}

const STOCK = 1_000_000;

async function runOne(name: string, env: Record<string, string>, port: number, extracted: string[] = [], orders = ORDERS): Promise<Result> {
  const children = await startDeployables(env, port, extracted);
  const base = `http://127.0.0.1:${port}`;
  let sku = '';
  const latencies: number[] = [];
  /** When each confirmation came, in ms since the load started, in order: for the warm-up cut and the timeline. */
  const confirmedAt: number[] = [];
  let cancelled = 0;
  /** This run's Idempotency-Keys, `<prefix>-<n>`, each with the id of the order it placed. */
  const keyPrefix = `bench-${Date.now().toString(36)}`;
  const placedBy = new Map<string, string>();
  let seconds = 0;
  let cpuMs = 0;
  let clientCpuMs = 0;
  let switches = Number.NaN;
  let writes = Number.NaN;
  let groupsRefused = 0;
  const cpuNow = () => children.reduce((sum, c) => sum + (treeCpuMs(c.pid!) ?? 0), 0);
  const writesNow = () => children.reduce((sum, c) => sum + (treeWriteSyscalls(c.pid!) ?? Number.NaN), 0);
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
    // The load generator shares the machine with what it measures: undici's pool costs it about
    // a third of the CPU an order that fetch() did (docs/benchmarks.md), CPU the topology gets back.
    const pool = new Pool(base, { connections: CLIENTS, pipelining: 1 });
    const call = async (method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string) => {
      const res = await pool.request({ method, path, headers, body });
      return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
    };
    const cpuBefore = cpuNow();
    const clientBefore = process.cpuUsage();
    const switchesBefore = machineContextSwitches() ?? Number.NaN;
    const writesBefore = writesNow();
    const started = performance.now();
    // A client that fails ends the load: destroying the pool fails the others' requests in flight.
    try {
      await Promise.all(
        customers.map(async (token) => {
          const h = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
          while (next < orders) {
            next++;
            const t0 = performance.now();
            // Every order carries an Idempotency-Key, as the product asks of a client (one that
            // retries must send it): the key is claimed in the order's own unit of work.
            const key = `${keyPrefix}-${next}`;
            const placed = await call('POST', '/api/v1/orders', { ...h, 'idempotency-key': key }, JSON.stringify({ items: [{ sku, quantity: 1 }] }));
            if (placed.status !== 202) throw new Error(`placing an order answered ${placed.status}: ${JSON.stringify(placed.body)}`);
            const id = placed.body.id as string;
            placedBy.set(key, id);
            // The product's long-poll: the answer comes when the order is final (or after 10 s, then again).
            for (let polls = 0; ; polls++) {
              if (polls > 30) throw new Error(`order ${id} still PENDING after ${polls} long-polls`);
              const o = (await call('GET', `/api/v2/orders/${id}?waitSeconds=10`, h)).body as { state: { code: string } };
              if (o.state.code === 'CONFIRMED') {
                const now = performance.now();
                latencies.push(now - t0);
                confirmedAt.push(now - started);
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
    } finally {
      await pool.destroy();
    }
    seconds = (performance.now() - started) / 1000;
    cpuMs = cpuNow() - cpuBefore;
    switches = (machineContextSwitches() ?? Number.NaN) - switchesBefore;
    writes = writesNow() - writesBefore;
    const client = process.cpuUsage(clientBefore);
    clientCpuMs = (client.user + client.system) / 1000;
    // The internal listeners (PORT + 1000) serve /metrics.
    groupsRefused = await commitGroupsRefused([port + 1000, ...extracted.map((_, i) => port + 1 + i + 1000)]);
  } finally {
    for (const child of children.reverse()) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }
  // The figure counts only if the stores agree with what the clients saw.
  const outcome = await checkOrdersRun(loadConfig({ ...benchKeysEnv, ...env, LOG_LEVEL: 'silent' }), sku, STOCK, latencies.length, keyPrefix, placedBy);
  if (outcome.orders !== latencies.length + cancelled) throw new Error(`${outcome.orders} orders in the store, ${latencies.length + cancelled} placed`);
  if (TIMELINE) printTimeline(name, latencies, confirmedAt);
  return summary(name, latencies, latencies.slice(WARM_UP), cancelled, seconds, cpuMs, clientCpuMs, switches, writes, groupsRefused);
}

/** Postgres commit groups the server refused, summed over the deployables' /metrics (a counter that is absent until one is). */
async function commitGroupsRefused(internalPorts: number[]): Promise<number> {
  let n = 0;
  for (const p of internalPorts) {
    const res = await fetch(`http://127.0.0.1:${p}/metrics`);
    if (!res.ok) throw new Error(`/metrics on ${p} answered ${res.status}`);
    for (const line of (await res.text()).split('\n')) if (line.startsWith('pg_commit_groups_refused_total{')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

function printTimeline(name: string, latencies: number[], confirmedAt: number[]): void {
  const perSecond = new Map<number, number[]>();
  confirmedAt.forEach((at, i) => {
    const second = Math.floor(at / 1000);
    perSecond.set(second, [...(perSecond.get(second) ?? []), latencies[i]!]);
  });
  console.error(`timeline ${name}`);
  for (const [second, ls] of [...perSecond].sort((a, b) => a[0] - b[0])) {
    console.error(`  ${String(second).padStart(3)} s  ${String(ls.length).padStart(5)} confirmed  max ${Math.max(...ls).toFixed(0)} ms`);
  }
}

function summary(name: string, latencies: number[], warm: number[], cancelled: number, seconds: number, cpuMs: number, clientCpuMs: number, switches: number, writes: number, groupsRefused: number): Result {
  const sorted = [...latencies].sort((a, b) => a - b);
  const sortedWarm = [...warm].sort((a, b) => a - b);
  const placed = latencies.length + cancelled;
  return {
    name, confirmed: latencies.length, cancelled, seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), p99Warm: percentile(sortedWarm, 99),
    cpuMsPerOrder: cpuMs / placed, switchesPerOrder: switches / placed, writesPerOrder: writes / placed, latencies, warm, cpuMs, clientCpuMs, switches, writes, groupsRefused,
  };
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-orders-'));
  const database = await benchDatabase();
  const dbUrl = database.url;
  const dbName = new URL(dbUrl).pathname.slice(1);
  try {
    const modules = await loadAll(system);
    await migrateModules(modules.map((m) => m.schema), loadConfig({ ...benchKeysEnv, DATABASE_URL: dbUrl, LOG_LEVEL: 'silent' }));
    const redis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    // On the database's host the monolith reaches it through its Unix socket, as a deployable
    // there would; loopback TCP is measured beside it (harness.ts, benchDatabase).
    const pgUrl = database.socketUrl ?? dbUrl;
    const onSocket = database.socketUrl ? ' (Unix socket)' : '';
    const cases: [string, (orders?: number) => Promise<Result>][] = [
      ['embedded', (n) => runOne('embedded: SQLite + in-process bus, all in one process', { DATA_DIR: dir }, 3411, [], n)],
      ['extracted', (n) => runOne('SQLite + BullMQ, inventory and payments extracted', { DATA_DIR: join(dir, 'split'), BUS: 'bullmq', REDIS_URL: redis, BUS_PREFIX: `bench-split-${dbName}` }, 3421, ['inventory', 'payments'], n)],
      ['postgres', (n) => runOne(`Postgres + BullMQ, all in one process${onSocket}`, { DATABASE_URL: pgUrl, BUS: 'bullmq', REDIS_URL: redis, BUS_PREFIX: `bench-${dbName}` }, 3431, [], n)],
    ];
    if (database.socketUrl) {
      cases.push(['postgres-tcp', (n) => runOne('Postgres + BullMQ, all in one process (loopback TCP)', { DATABASE_URL: dbUrl, BUS: 'bullmq', REDIS_URL: redis, BUS_PREFIX: `bench-tcp-${dbName}` }, 3461, [], n)]);
    }
    // Not in the full run: they split the Postgres row's cost between its store and its bus.
    const diagnostic: typeof cases = [
      ['postgres-inprocess', (n) => runOne(`Postgres + in-process bus, all in one process${onSocket}`, { DATABASE_URL: pgUrl }, 3441, [], n)],
      ['sqlite-bullmq', (n) => runOne('SQLite + BullMQ, all in one process', { DATA_DIR: join(dir, 'sqlite-bullmq'), BUS: 'bullmq', REDIS_URL: redis, BUS_PREFIX: `bench-sb-${dbName}` }, 3451, [], n)],
    ];
    // BENCH_ORDERS_CASES=postgres (comma-separated) runs a subset for profiling, the diagnostic
    // cases among them; only a full run writes the doc.
    const only = process.env.BENCH_ORDERS_CASES?.split(',').map((c) => c.trim()).filter(Boolean);
    if (only?.length) {
      const partial = [];
      for (const [key, go] of [...cases, ...diagnostic]) if (only.includes(key)) partial.push(await go());
      console.table(partial.map(({ latencies, warm, ...r }) => r));
      return;
    }
    const rounds = new Map<string, Result[]>(cases.map(([key]) => [key, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const [key, go] of r % 2 ? [...cases].reverse() : cases) rounds.get(key)!.push(await go(Math.ceil(ORDERS / ROUNDS)));
    }
    const results = cases.map(([key]) => {
      const rs = rounds.get(key)!;
      const sum = (f: (x: Result) => number) => rs.reduce((n, x) => n + f(x), 0);
      return summary(rs[0]!.name, rs.flatMap((x) => x.latencies), rs.flatMap((x) => x.warm), sum((x) => x.cancelled), sum((x) => x.seconds), sum((x) => x.cpuMs), sum((x) => x.clientCpuMs), sum((x) => x.switches), sum((x) => x.writes), sum((x) => x.groupsRefused));
    });
    const rows = results.map((r) => [r.name, r.confirmed, r.cancelled, (r.confirmed / r.seconds).toFixed(1), r.p50.toFixed(1), r.p99.toFixed(1), r.p99Warm.toFixed(1), r.cpuMsPerOrder.toFixed(2), r.switchesPerOrder.toFixed(1), r.writesPerOrder.toFixed(1)]);
    writeSection(
      'orders',
      `## Order placement, POST to CONFIRMED (\`npm run bench -- orders\`)

${ORDERS} orders from ${CLIENTS} concurrent customers (each places an order, follows it to CONFIRMED, then places the
next), in ${ROUNDS} rounds per topology run forward then backward (embedded, extracted, Postgres on its socket, Postgres over TCP, then
the same backward, …) so a machine busier at one moment weighs on all alike; the saga: price → reserve → charge → commit → confirm, with the outbox, inbox, history projection and
notifications running. The real deployables run as child processes with every production feature on
(JWT auth, request logs at \`info\`, metrics, validation, SQLite \`synchronous=NORMAL\` in WAL,
Postgres defaults), and every order is placed with an \`Idempotency-Key\`, as the product asks of a client, so its claim is
written with the order (before decision 34 the bench sent none, and the keyed path went unmeasured). Settings a row depends on: the Postgres row reaches the database through its Unix socket (\`?host=<socket directory>\` in \`DATABASE_URL\`), as a monolith on the database's host would, and the same row over loopback TCP runs beside it (on two cores TCP costs both processes each round trip's send and receive path: 17–20% fewer orders per second in two interleaved pairs, 4% in the full run of decision 26); every row runs with the relay's gather window at its default (\`BUS_GATHER_MS=50\`: 0 served 7–26% fewer orders per second on the Postgres row in six interleaved pairs, decision 25), the two BullMQ rows with \`BUS_EVENTS_PER_JOB\` at its default (50) and
the Postgres row at the default pool, \`PG_POOL_MAX=4\` connections per module (8, which this row used
before, served 9–24% fewer orders per second in three interleaved runs on the 2-core EPYC VM: more backends and
connections competing for the same two cores). A client follows its order with the product's long-poll, \`GET /api/v2/orders/:id?waitSeconds=10\`,
which answers as soon as the order is CONFIRMED or CANCELLED: the latency is POST to CONFIRMED as the client sees it.
Before a figure is written the run is checked against the stores (\`orders-checks.ts\`): every order CONFIRMED or
CANCELLED with a listed reason, every saga done, stock on hand = start − confirmed and nothing left reserved,
each confirmed order's reservation committed, one capture per confirmed order, every other capture refunded,
payments net = confirmed totals, one idempotency key per order holding the answer that placed it. A failed check fails the bench and writes nothing.

${table(['topology', 'orders confirmed', 'cancelled', 'orders/s', 'p50 ms', 'p99 ms', `p99 ms after warm-up`, 'CPU ms per order', 'context switches per order', 'write syscalls per order'], rows)}

"After warm-up" leaves out the first ${WARM_UP} orders each process of a round served (code still being
compiled, statements prepared). CPU ms per order is the CPU time (user + system, from \`/proc\`) of every
process of the topology over the load, divided by the orders placed: unlike orders/s it hardly moves
when the machine is shared. Context switches per order are the whole machine's over the load (\`ctxt\`
in \`/proc/stat\`: the topology, its databases and brokers, and the bench's clients), divided by the
orders placed: every round trip between two processes costs some on both sides, and unlike time the
count does not follow the machine's speed, so it shows a round trip saved where seconds cannot. Write
syscalls per order are the topology's own (\`syscw\` in \`/proc/<pid>/io\`, every process of it): each
round trip it sends to Postgres or Redis, each HTTP answer and each log write is one, and so is each
of SQLite's writes of a WAL frame (a frame's header and its page are two) or of a checkpointed page
(decision 32); on the Postgres row they count its round trips, on the SQLite rows mostly its pages.

Throughput relative to the embedded default: extracted **${(rate(results[1]!) / rate(results[0]!)).toFixed(2)}**, Postgres + BullMQ **${(rate(results[2]!) / rate(results[0]!)).toFixed(2)}**${results[3] ? ` (over loopback TCP: ${(rate(results[3]) / rate(results[0]!)).toFixed(2)})` : ''}.

Postgres commit groups the server refused (their units then went again alone, one after the other; decision 37): ${results[2]!.groupsRefused}${results[3] ? ` on the socket row, ${results[3].groupsRefused} over TCP` : ''}.

The bench's own clients (undici's pool, 32 connections) took ${results.map((r) => (r.clientCpuMs / (r.confirmed + r.cancelled)).toFixed(2)).join(' / ')} ms of CPU an order in the rows above, on the same two cores.

Where the time goes. An order no longer waits on a poll: placement writes its saga already leased to
the runner of the instance that placed it, and the runner drives it the moment that unit of work
commits (no claim, no read back of the saga or the order); the last forward step settles the order
in the same unit of work that ends the saga. \`SAGA_POLL_MS\` (250 ms) is the safety net for retries that
came due, sagas a crashed instance left, and any saga the runner had no room for (32 at once).
Every topology is then bound by CPU, not by waiting. Before the changes of decision 17, a CPU profile of the
embedded monolith under this load (\`--cpu-prof\`) had ~1% idle: drizzle ~31% of self time (building the
same insert or update for every order, then running it), the group commit's BEGIN/COMMIT ~16% (nearly
every unit of work committed alone: a SQLite unit rarely yields, so nothing queued behind it), socket
writes 6%, GC 4%; 9.2 ms of CPU per order. Now a group commit starts at the end of the event-loop turn,
so the units started together (requests parsed in one turn, a relay batch, which the in-process bus now
hands to its subscribers at once) share one transaction, each in its savepoint; and the statements every
order runs are prepared once (\`preparedWrite\`, \`preparedRead\`). The same profile then: COMMIT ~18%
(WAL appends, one per group), the SQLite statements themselves ~11%, drizzle's own building and mapping
a few percent, HTTP (router, express, socket writes) ~10%, GC 3%; 5.1–5.4 ms of CPU per order, measured
back to back on the same loaded host against 9.2 before. An order is about 11 units of work
over four SQLite files (place, reserve, save, capture, save, commit, settle, two history projections,
a notification, the relays' marks), now sharing far fewer commits. The Postgres row takes 47–48 statements per order (was about 64 plus
one per client poll): 18 of them are the BEGIN/COMMIT of 9 transactions, the rest one statement per
step (reservation inserted and moved to committed in one statement each, the payment recorded on the
account read before the provider call, claim and saga read-backs gone); the order path's statements run as
named statements (parsed and planned once per connection). Its monolith's profile before decision 19: busy
96% of the time, socket writes ~31% (a write per statement to Postgres, per job to Redis), drizzle ~20%
(on Postgres the prepared writes and the bus's outbox, inbox and relay statements were built anew per
call: query building alone ~10%), pg ~6%, BullMQ and ioredis ~4%. Since then (decision 19) they are built
once per process and run on each unit's own connection: 8.8 → 6.3–6.8 ms of CPU per order, 105 → 123–131
orders/s, the same machine and hour (2026-12-01). Since decision 21 the events of one BullMQ job are
handled in one unit of work, and the relay marks its rows dispatched with one statement (no BEGIN/COMMIT
around it): a statement log of 200 orders counts ~42 statements per order (was ~48), 10 of them BEGIN
and COMMIT of 5 transactions (was 9). That did not move orders/s on this VM, and
neither did sending BEGIN with each unit's first statement (one round trip fewer per unit; tried, not
kept): the V8 profile's "socket writes" share is mostly time the thread spends descheduled inside the
write (it wakes Postgres on a 2-core machine), not CPU. A system-wide \`perf\` sample under this load:
the monolith ~42% of the two cores (about a fifth of it in the kernel; the rest spread thin over V8's
builtins, promises and megamorphic property loads, drizzle and pg a few percent each), the Postgres
backends ~34%, the bench's client 7%, Redis 5%, idle ~10%. Run on Postgres with the in-process bus,
the monolith takes 9.4–9.9 ms of CPU per order against 11.7–12.7 with BullMQ: BullMQ and ioredis
are ~2.3 ms of it, pg and drizzle most of the rest (those figures are the AMD EPYC VM's; the Xeon VM
of decision 22 does about three times the work per second). Decision 22: SQLite planned some of the
order path's statements anew on every run (a bound \`LIMIT ?\`, and the payments account's reads
ordered by version after \`account_id = ?\`); written so it plans them once, an embedded order took
1.02–1.07 ms of CPU against 1.04–1.14 in interleaved runs; a group commit's unit no longer takes an
\`AsyncLocalStorage.snapshot()\` of its caller's context (~2 µs each, ~11 units an order): 0.90–0.93
against 1.00–1.03. Decision 23: on Postgres the relay's read of pending outbox rows scanned every
dispatched row (the generic plan walked the primary key; the custom plan's bitmap scan read every dead
index entry), 3–10 ms a read at ~10,800 rows and growing; through a partial index of the undispatched
rows the row went from 38–44 s to 28–33 s for 8,000 orders (3.1–3.6 → 2.6–3.2 CPU ms an order for the
monolith), and the Postgres backends from 42% to 34% of the machine. It then made ~40 statements an order,
and a statement costs the monolith ~33 µs of CPU, ~20 of them in the kernel, whoever builds it (drizzle
adds nothing measurable; \`select 1\` costs 30). Decisions 26 and 27 took it from 15.1 to ~9.8 round trips
an order (~32 statements, the relay's and the projections' batched ones included): a new order's
reservation, a commit of a reservation the instance held and the saga's settle each send their
conditional writes with the COMMIT, the database checking that each changed the one row it must
(\`expectRows\`), ~11% less of the monolith's CPU an order in interleaved pairs. Decision 28: such a unit, whose
writes are all held to its end (five an order: placement, reservation, charge, commit, settle), goes without
BEGIN and COMMIT, as the implicit transaction Postgres keeps up to the round trip's Sync: ~21 statements an
order, ~9.6 round trips; in eight interleaved pairs with the embedded row beside it the Postgres row went from
0.33 to 0.40 of embedded on average, ahead in all eight. Decision 37: such a unit takes no pooled
connection (a unit takes one when it first sends), and its commit group sends on one of its own, so a group
is no longer capped at the pool's 4 connections: 0.69 groups an order of ~10 units against 2.3 of at most 4,
and 361–362 orders/s against 240–243, 13 context switches an order against 28, in an ABBA block of the row. A \`perf\` sample of the embedded row
between the two: SQLite's own work ~22% of the monolith's samples (WAL appends in COMMIT ~4.5% of them), GC
~12% (\`npm start\`'s 8 MB young generation), the rest spread over the runtime, HTTP, drizzle's row
mapping, zod and the bus, no function above ~2%. The extracted row spreads the
same work over three processes (two cores), and pays an HTTP hop for each of the saga's four contract calls.
On a machine shared with other work the ratios move from run to run: the extracted row's three processes
get a larger share of the cores than one process does, which flatters it.`,
    );
    console.table(results.map(({ latencies, warm, ...r }) => r));
  } finally {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
    // Every BUS_PREFIX above ends with the run's database name.
    await deleteRedisKeys(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', `bench-*${dbName}:*`);
  }
}
