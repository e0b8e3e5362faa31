// Bench: the event bus. Events published in a unit of work (state row + outbox row in
// one transaction) and handled with inbox de-duplication, on the in-process and BullMQ transports,
// side by side in the same run with raw BullMQ (a bare Queue.addBulk producer and a Worker on the
// same Redis, no outbox, no inbox). All on SQLite stores, in this one process.
//   - throughput: a burst of BENCH_BUS_EVENTS events from 16 concurrent producers, from the first
//     publish until the last one is handled;
//   - latency: publish→handled for events sent one by one at a fixed rate (a quarter of the slowest
//     path's burst throughput), so the figure is the path's own delay, not a queue's backlog.
// Writes the `bus` section of docs/benchmarks.md.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { newId } from '../../src/platform/data/ids.ts';
import { Queue, Worker } from 'bullmq';
import { loadConfig } from '../../src/platform/config/env.ts';
import { benchKeysEnv } from './keys.ts';
import { createApp, type RunningApp } from '../../src/platform/kernel/create-app.ts';
import { emptyTopology, resolveTopology } from '../../src/platform/kernel/topology.ts';
import { benchManifests, benchModules, recordItem, type BenchHooks } from './bus-modules.ts';
import { table, writeSection } from './report.ts';
import { deleteRedisKeys } from './harness.ts';

const EVENTS = Number(process.env.BENCH_BUS_EVENTS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 3);
const PRODUCERS = 16;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// BUS_CONCURRENCY (its default unless set), for the app's workers and the raw worker alike.
const CONCURRENCY = loadConfig({ ...benchKeysEnv, BUS_CONCURRENCY: process.env.BUS_CONCURRENCY }).BUS_CONCURRENCY;
const RAW_BATCH = 200; // the relay's batch size
const EVENTS_PER_JOB = loadConfig({ ...benchKeysEnv, BUS_EVENTS_PER_JOB: process.env.BUS_EVENTS_PER_JOB }).BUS_EVENTS_PER_JOB;

interface Path {
  name: string;
  /** Sends one event; `id` comes back through `handled`. */
  publish(id: string, n: number): Promise<void>;
  /** Sends many at once, as fast as the path allows. */
  burst(ids: string[]): Promise<void>;
  close(): Promise<void>;
}

type Waiter = { remaining: Set<string>; done: () => void };
const sentAt = new Map<string, number>();
const latencies: number[] = [];
let waiter: Waiter | undefined;
function handled(id: string): void {
  const t = sentAt.get(id);
  if (t !== undefined) {
    latencies.push(performance.now() - t);
    sentAt.delete(id);
  }
  if (waiter && waiter.remaining.delete(id) && waiter.remaining.size === 0) waiter.done();
}
function awaitHandled(ids: string[], timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${waiter?.remaining.size} events not handled within ${timeoutMs} ms`)), timeoutMs);
    waiter = { remaining: new Set(ids), done: () => (clearTimeout(timer), resolve()) };
  });
}

const prefix = `bench-${randomBytes(3).toString('hex')}`;
const dirs: string[] = [];

/** `gatherMs`: BUS_GATHER_MS for this path (its default unless given). */
async function outboxPath(bus: 'inprocess' | 'bullmq', gatherMs?: number): Promise<Path> {
  const dir = mkdtempSync(join(tmpdir(), `bench-bus-${bus}-`));
  dirs.push(dir);
  const gather = gatherMs === undefined ? {} : { BUS_GATHER_MS: String(gatherMs) };
  const config = loadConfig({ ...benchKeysEnv, DATA_DIR: dir, BUS: bus, REDIS_URL, BUS_PREFIX: `${prefix}-${bus}${gatherMs ?? ''}`, LOG_LEVEL: 'silent', SEED: 'false', BUS_CONCURRENCY: String(CONCURRENCY), BUS_EVENTS_PER_JOB: String(EVENTS_PER_JOB), ...gather });
  const hooks: BenchHooks = { onHandled: handled };
  const app: RunningApp = await createApp({
    config,
    manifests: benchManifests,
    modules: benchModules(hooks),
    deployable: 'monolith',
    topology: resolveTopology(emptyTopology(), config),
  });
  await app.bus.ready();
  const publish = (id: string, n: number) => recordItem(hooks, id, n);
  return {
    name: `${bus === 'inprocess' ? 'outbox → in-process → inbox' : 'outbox → BullMQ → inbox'}${gatherMs === undefined ? '' : `, \`BUS_GATHER_MS=${gatherMs}\` (latency only)`}`,
    publish,
    async burst(ids) {
      let next = 0;
      await Promise.all(
        Array.from({ length: PRODUCERS }, async () => {
          while (next < ids.length) {
            const i = next++;
            await publish(ids[i]!, i);
          }
        }),
      );
    },
    close: () => app.stop(),
  };
}

async function rawBullmqPath(): Promise<Path> {
  const connection = { url: REDIS_URL, maxRetriesPerRequest: null };
  const queue = new Queue('raw', { connection, prefix: `${prefix}-raw` });
  const opts = { removeOnComplete: { age: 3600, count: 10_000 }, removeOnFail: { age: 3600 } };
  const worker = new Worker('raw', async (job) => handled(job.data.id as string), { connection, prefix: `${prefix}-raw`, concurrency: CONCURRENCY });
  await worker.waitUntilReady();
  const payload = (id: string, n: number) => ({ id, type: 'ItemRecorded', version: 1, source: 'raw', occurredAt: new Date().toISOString(), payload: { itemId: id, n } });
  return {
    name: 'raw BullMQ (addBulk + Worker)',
    async publish(id, n) {
      await queue.add('ItemRecorded.v1', payload(id, n), { ...opts, jobId: id });
    },
    async burst(ids) {
      for (let i = 0; i < ids.length; i += RAW_BATCH) {
        await queue.addBulk(ids.slice(i, i + RAW_BATCH).map((id, j) => ({ name: 'ItemRecorded.v1', data: payload(id, i + j), opts: { ...opts, jobId: id } })));
      }
    },
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}

/**
 * The floor under any path that commits twice per event: bare better-sqlite3 (statements prepared
 * once, same pragmas as the module stores) doing the publisher's transaction (item + outbox row)
 * and the subscriber's (inbox + effect row) for each event, no bus, no drizzle.
 */
async function storeOnlyPath(): Promise<Path> {
  const { default: Database } = await import('better-sqlite3');
  const dir = mkdtempSync(join(tmpdir(), 'bench-bus-store-'));
  dirs.push(dir);
  const open = (file: string, ddl: string) => {
    const db = new Database(join(dir, file));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(ddl);
    return db;
  };
  const source = open('source.sqlite', 'create table items(id text primary key, n int, created_at int); create table outbox(seq integer primary key autoincrement, id text not null unique, type text, envelope text, created_at int, dispatched_at int); create index outbox_pending on outbox(dispatched_at, seq);');
  const sink = open('sink.sqlite', 'create table inbox(event_id text, handler text, handled_at int, primary key(event_id, handler)); create table effects(item_id text primary key, event_id text);');
  const item = source.prepare('insert into items values (?, ?, ?)');
  const outbox = source.prepare('insert into outbox(id, type, envelope, created_at) values (?, ?, ?, ?)');
  const inbox = sink.prepare('insert into inbox values (?, ?, ?) on conflict do nothing');
  const effect = sink.prepare('insert into effects values (?, ?)');
  const publishTx = source.transaction((id: string, n: number) => {
    item.run(id, n, Date.now());
    outbox.run(id, 'ItemRecorded.v1', JSON.stringify({ id, type: 'ItemRecorded', version: 1, payload: { itemId: id, n } }), Date.now());
  });
  const handleTx = sink.transaction((id: string) => {
    if (inbox.run(id, 'ItemRecorded.v1', Date.now()).changes === 1) effect.run(id, id);
  });
  const publish = async (id: string, n: number) => {
    publishTx.immediate(id, n);
    handleTx.immediate(id);
    handled(id);
  };
  return {
    name: 'floor: 2 bare SQLite commits per event, no bus',
    publish,
    async burst(ids) {
      for (let i = 0; i < ids.length; i++) await publish(ids[i]!, i);
    },
    async close() {
      source.close();
      sink.close();
    },
  };
}

const newIds = (n: number) => Array.from({ length: n }, newId);

/** Events per second for one burst, and this process's CPU time per event (µs): on a shared host the second is the steadier figure. */
async function measureBurst(path: Path): Promise<{ eps: number; cpuUs: number }> {
  const ids = newIds(EVENTS);
  const done = awaitHandled(ids);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await path.burst(ids);
  await done;
  const cpu = process.cpuUsage(c0);
  return { eps: EVENTS / ((performance.now() - t0) / 1000), cpuUs: (cpu.user + cpu.system) / EVENTS };
}

async function measureLatency(path: Path, rate: number): Promise<{ p50: number; p99: number; n: number }> {
  const total = Math.max(50, Math.round(rate * LATENCY_SECONDS));
  const ids = newIds(total);
  latencies.length = 0;
  const done = awaitHandled(ids);
  const t0 = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    // Open-loop pacing: each event leaves at its scheduled time, whatever the previous one does.
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sentAt.set(ids[i]!, performance.now());
    inFlight.push(path.publish(ids[i]!, i));
  }
  await Promise.all(inFlight);
  await done;
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99), n: sorted.length };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number, d = 0) => n.toFixed(d);

export async function run(): Promise<void> {
  const makers: [string, () => Promise<Path>][] = [
    ['inprocess', () => outboxPath('inprocess')],
    ['bullmq', () => outboxPath('bullmq')],
    ['raw', rawBullmqPath],
    ['floor', storeOnlyPath],
  ];
  // BENCH_BUS_PATHS=bullmq (say) runs only those paths, for profiling; docs/benchmarks.md is
  // written only by a full run.
  const only = process.env.BENCH_BUS_PATHS?.split(',');
  const paths = new Map<string, Path>();
  try {
    for (const [key, make] of makers) {
      if (only && !only.includes(key)) continue;
      const path = await make();
      paths.set(key, path);
      // Warm-up: JIT, connections, SQLite pages.
      const warm = newIds(300);
      const warmed = awaitHandled(warm);
      await path.burst(warm);
      await warmed;
    }
    const throughput = new Map<string, number[]>([...paths.keys()].map((k) => [k, []]));
    const cpuPerEvent = new Map<string, number[]>([...paths.keys()].map((k) => [k, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [key, path] of paths) {
        const { eps, cpuUs } = await measureBurst(path);
        throughput.get(key)!.push(eps);
        cpuPerEvent.get(key)!.push(cpuUs);
        console.log(`  round ${round + 1} ${path.name}: ${fmt(eps)} events/s, ${fmt(cpuUs)} µs CPU/event`);
      }
    }
    const eps = new Map([...throughput].map(([k, xs]) => [k, median(xs)]));
    const cpu = new Map([...cpuPerEvent].map(([k, xs]) => [k, median(xs)]));
    // BENCH_BUS_RATE fixes the paced rate, to compare latency across runs whose throughputs differ
    // (and measures it in a subset run too).
    if (only && !process.env.BENCH_BUS_RATE) return;
    const rate = Number(process.env.BENCH_BUS_RATE ?? 0) || Math.max(20, Math.floor(Math.min(eps.get('inprocess')!, eps.get('bullmq')!, eps.get('raw')!) / 4));
    // The outbox paths again with the relay's gather window off: their latency at this rate is
    // then the path's own delay, where the default's is mostly the window (docs/bus.md).
    if (!only) {
      for (const bus of ['inprocess', 'bullmq'] as const) {
        const path = await outboxPath(bus, 0);
        paths.set(`${bus}-now`, path);
        const warm = newIds(300);
        const warmed = awaitHandled(warm);
        await path.burst(warm);
        await warmed;
      }
    }
    const latency = new Map<string, { p50: number; p99: number; n: number }>();
    for (const [key, path] of paths) {
      const l = await measureLatency(path, rate);
      latency.set(key, l);
      console.log(`  latency @ ${rate}/s ${path.name}: p50 ${fmt(l.p50, 2)} ms, p99 ${fmt(l.p99, 2)} ms`);
    }
    if (only) return;
    const raw = eps.get('raw')!;
    const rows = [...paths].map(([key, path]) => {
      const l = latency.get(key)!;
      const burst = eps.get(key);
      if (burst === undefined) return [path.name, '—', '—', '—', fmt(l.p50, 2), fmt(l.p99, 2)];
      return [path.name, fmt(burst), key === 'raw' ? '1.00' : fmt(burst / raw, 2), fmt(cpu.get(key)!), fmt(l.p50, 2), fmt(l.p99, 2)];
    });
    const bullRatio = eps.get('bullmq')! / raw;
    writeSection(
      'bus',
      `## Event bus

Events published inside a unit of work (a state row and an outbox row in one SQLite transaction)
and handled by a subscriber module inside its own unit of work with inbox de-duplication, on each
transport, beside raw BullMQ on the same Redis (\`Queue.addBulk\` in batches of ${RAW_BATCH} and a
\`Worker\`, no outbox, no inbox, no store). Everything runs in one process
(\`scripts/bench/bus.ts\`); workers use concurrency ${CONCURRENCY} (\`BUS_CONCURRENCY\`, the same for raw BullMQ's worker).

- Throughput: a burst of ${EVENTS} events from ${PRODUCERS} concurrent producers, first publish to
  last handled; median of ${ROUNDS} interleaved round(s) after a warm-up.
- Latency: publish (start of the unit of work, or of \`Queue.add\`) → handler ran, for events sent
  one at a time at ${rate} events/s (a quarter of the slowest path's burst throughput) for ${LATENCY_SECONDS} s.
  Paced events arrive within the relay's gather window (\`BUS_GATHER_MS\`, 50 ms by default: while
  kicks keep coming a module's relay starts a pass at most once per window), so at the default an
  event's latency is mostly its wait for the next pass; the two rows with \`BUS_GATHER_MS=0\`, made
  for this measure only, show the path's own delay, with a pass (read, \`addBulk\`, mark) and a
  commit for almost every event, so a path's paced capacity there is well below its burst
  throughput (at half the burst rate the BullMQ path queued and its latency measured the backlog).

Bar: the BullMQ outbox path keeps ≥ 0.65 of raw BullMQ's throughput (aim 0.8). This run: **${fmt(bullRatio, 2)}**.
The CPU column is this process's CPU time per event over the burst rounds (median): on a shared
host it moves far less than events/s, and its ratio to raw BullMQ's is the cost the outbox path adds.
Load average of the host when the run ended: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores (other benchmarks may share it).

${table(['path', 'events/s (burst)', 'vs raw BullMQ', 'CPU µs/event (bench process)', `p50 ms @ ${rate}/s`, `p99 ms @ ${rate}/s`], rows)}

Reading it. Raw BullMQ keeps nothing: no store, no transaction. Every outbox-path event runs two
units of work on SQLite (the publisher's state + outbox row, the subscriber's inbox claim + effect),
plus the relay's read and "dispatched" mark per batch of up to 200. Units that queue up on a store
share one transaction and one commit, each after the first in its own savepoint (group commit,
\`src/platform/data/group-commit.ts\`): in a profiling run the 16 producers' units committed ~15 at a
time and the subscriber's ~17 (it has up to ${CONCURRENCY} jobs in flight; at the old default of 8
its groups were ~4 and the path ran at ~0.47 of raw). Event ids are time-ordered UUIDv7s
(\`src/platform/data/ids.ts\`): with random v4 ids every event dirtied its own leaf page of the
outbox's id index and of the inbox, and COMMIT, which writes every dirty page to the WAL, took
2.5 s of a 10 s profile; with v7 ids 1.1 s (the bench makes its item ids the same way). The bus's own per-event statements on the platform
tables (outbox insert, inbox claim, relay read and mark) are prepared once per SQLite store
(\`store.platform\`), and the bench modules prepare their own (item insert, effect insert) once with
\`preparedWrite\`, as the commerce modules' per-event and per-order writes are (decisions 17 and 19).
WAL checkpoints run in a worker thread
(\`wal-checkpointer.ts\`): inside a commit they were ~60% of the time spent committing. The floor row
still checkpoints inside its commits (SQLite's default), so it is a reference, not a bound.

One job, many events. A BullMQ job carries up to \`BUS_EVENTS_PER_JOB\` events (${EVENTS_PER_JOB} in this run;
\`src/platform/bus/bullmq-transport.ts\`), each still handled in its own unit of work with its own inbox
claim; a job whose events partly fail keeps only those for its retry. Before it, a profile of the
BullMQ path counted ~18% of its samples in BullMQ, ioredis and msgpackr: the Redis round trips to
take, lock and complete a job, paid per event, and an inbox unit of work waited on them (32 jobs in
flight, ~0.9 ms each). With 50 events a job the relay's ~196-row passes become ~4 jobs each, and the
path went from 0.52–0.54 of raw BullMQ (this host, a run before the change: 4,913 against 9,071
events/s) to about raw BullMQ's throughput or above it, since raw BullMQ still pays one job per event
(0.78–1.29 of raw BullMQ in four runs at host load 4–14, each the median of 3 rounds), and its CPU
per event from ~200 to ~110–160 µs.

Where the time went before the bench modules' writes were prepared (CPU profile of the BullMQ path
alone, host load average ~10, counted in samples): ~22% drizzle (building and running the bench
modules' inserts), ~15% group commit (BEGIN, a SAVEPOINT and RELEASE per unit, COMMIT: SQLite's own
time), ~13% GC, ~7% BullMQ, ioredis and msgpackr together, ~6% idle; the bus's own code ~3%.
Preparing those two inserts (2026-12-01, same machine, same hour, the bench before and after) took
the path from 0.65–0.68 to 0.83–1.0 of raw BullMQ and its CPU per event from ~190 to ~130 µs: with
inserts built per event, module code costs the outbox path about a fifth of its throughput. What
is left is the group commit per unit and the Redis round trips.

Rolling upgrades: workers take jobs of both shapes (a batch, or one bare envelope as earlier versions
and replays queue them), but a worker of a version before batching cannot read a batch: keep
\`BUS_EVENTS_PER_JOB=1\` until every subscriber runs this version (docs/bus.md).

The SQLite paths also wait on the disk: the floor's in-line checkpoints fsync, and the other
paths' checkpoint worker does. The floor ran at 15,400 events/s and the in-process path at 9,500 in
an earlier session (an Intel Xeon host), and at about a third and two thirds of that on an AMD EPYC
host (2026-12-01), while raw BullMQ (no disk) was unchanged: compare rows within one run, not
across runs.
`,
    );
  } finally {
    for (const p of paths.values()) await p.close().catch(() => {});
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await deleteRedisKeys(REDIS_URL, `${prefix}-*`);
  }
}

