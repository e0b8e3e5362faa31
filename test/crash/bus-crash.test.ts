// Crash safety proven: the bus fixtures (ledger publishes EntryRecorded in the
// same unit of work as its entry, tally handles it) run as a child process under a bounded load of
// POSTs, a share of which roll back after publishing. The process is killed with SIGKILL at
// arbitrary points several times and restarted on the same store; once the load is over and the
// bus has drained, the stores themselves must show: every committed entry handled by tally exactly
// once in effect, and no rolled-back entry anywhere (not in entries, not in the outbox, not in
// tally's effects). On both transports: in-process on SQLite, BullMQ on Postgres.
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { isNull } from 'drizzle-orm';
import { loadConfig } from '../../src/platform/config/env.ts';
import { openModuleStore } from '../../src/platform/data/open-store.ts';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import { mintToken } from '../../src/platform/auth/jwt.ts';
import { TEST_JWT_SECRET } from '../support/keys.ts';
import type { Engine } from '../support/boot.ts';
import { stageBusApp, type BusAppStage } from '../support/bus-app-stage.ts';
import { freePort, startTs, waitReady, type Child } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';

const REQUESTS = 500; // bounded load per transport
const WORKERS = 6; // concurrent clients
const KILLS = 3;
const ROLLBACK_EVERY = 5; // one request in five publishes and then rolls back
// Amounts the tally fixture handles first time (7, 8 and 13 fail on purpose in other tests).
const AMOUNTS = [1, 2, 3, 4, 5, 6, 9, 10, 11, 12];

const randomInt = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

const matrix: { bus: 'inprocess' | 'bullmq'; engine: Engine }[] = [
  { bus: 'inprocess', engine: 'sqlite' },
  { bus: 'bullmq', engine: 'pg' },
];

describe.each(matrix)('crash safety: $bus on $engine', ({ bus, engine }) => {
  let stage: BusAppStage | undefined;
  afterAll(() => stage?.teardown());

  it('handles every committed event exactly once in effect and no rolled-back one, across repeated kill -9 and restart', async () => {
    stage = await stageBusApp(engine, { BUS: bus, BUS_POLL_MS: '100' });
    const { schemas, env } = stage;
    const cleanups = stage.cleanups;
    let child: Child | undefined;
    const token = await mintToken({ sub: 'crash-test', secret: TEST_JWT_SECRET });

    let base = '';
    const outputs: string[] = [];
    const start = async () => {
      const port = await freePort();
      child = stage!.child = startTs('test/fixtures/bus-app.ts', { ...env, PORT: String(port), INTERNAL_PORT: String(await freePort()) });
      base = `http://127.0.0.1:${port}`;
      await waitReady(base, child, 90_000);
    };
    // Clients that hit a dead process wait for the next one to be ready instead of spinning.
    let up: Promise<void> = Promise.resolve();

    // --- load: a bounded loop of POSTs from a few concurrent clients
    const acked = new Set<string>(); // 201: committed and acknowledged
    const rolledBack = new Set<string>(); // every id sent with rollback:true, whatever its answer
    let confirmedRollbacks = 0;
    let failedRequests = 0;
    let next = 0;
    const client = async () => {
      while (next < REQUESTS) {
        const i = next++;
        const rollback = i % ROLLBACK_EVERY === 0;
        const id = `${rollback ? 'rb' : 'ok'}-${i}-${randomUUID()}`;
        if (rollback) rolledBack.add(id);
        await up;
        try {
          const res = await fetch(`${base}/api/v1/ledger`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ id, amount: AMOUNTS[i % AMOUNTS.length], rollback }),
          });
          await res.arrayBuffer();
          if (res.status === 201) acked.add(id);
          else if (res.status === 409 && rollback) confirmedRollbacks++;
          else throw new Error(`unexpected ${res.status} for ${id}`);
        } catch (err) {
          // The process died under this request: its outcome is unknown, the stores will tell.
          if ((err as Error).message.startsWith('unexpected')) throw err;
          failedRequests++;
        }
      }
    };

    await start();
    const load = Promise.all(Array.from({ length: WORKERS }, client));
    let loadDone = false;
    void load.finally(() => (loadDone = true)).catch(() => {});

    // --- chaos: SIGKILL after a random number of further acknowledged writes, then restart
    const kills: { afterAcked: number }[] = [];
    for (let k = 0; k < KILLS; k++) {
      const target = acked.size + randomInt(30, 100);
      await eventually(() => acked.size >= target || loadDone, `${target} acknowledged writes`, 30_000, 5);
      let ready!: () => void;
      up = new Promise((r) => (ready = r));
      const dying = child!;
      dying.proc.kill('SIGKILL');
      const exit = await dying.exited;
      expect(exit.signal).toBe('SIGKILL');
      outputs.push(dying.output());
      kills.push({ afterAcked: acked.size });
      await start();
      ready();
    }
    await load;

    // --- drain, then read the truth from the stores
    const config = loadConfig({ ...stage.storeEnv, LOG_LEVEL: 'silent' });
    const [ledgerSchema, tallySchema] = schemas;
    const ledger = await openModuleStore(ledgerSchema!, config, 'crash-test') as unknown as ModuleStore<any>;
    const tally = await openModuleStore(tallySchema!, config, 'crash-test') as unknown as ModuleStore<any>;
    cleanups.push(async () => {
      await ledger.close();
      await tally.close();
    });
    const read = async () => {
      const entries = (await ledger.db.select().from(ledger.tables.entries)) as { id: string; amount: number }[];
      const effects = (await tally.db.select().from(tally.tables.effects)) as { entryId: string; eventId: string }[];
      const pending = await ledger.db.select({ id: ledger.tables.outbox.id }).from(ledger.tables.outbox).where(isNull(ledger.tables.outbox.dispatchedAt));
      return { entries, effects, pending: pending.length };
    };
    const state = await eventually(
      async () => {
        const s = await read();
        return s.pending === 0 && s.effects.length >= s.entries.length && s;
      },
      `the bus to drain after ${KILLS} kills`,
      40_000,
      100,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\n--- child output (last run) ---\n${child?.output().slice(-4000)}`);
    });

    const { entries, effects } = state;
    const entryIds = new Set(entries.map((e) => e.id));
    const effectsPerEntry = new Map<string, number>();
    for (const e of effects) effectsPerEntry.set(e.entryId, (effectsPerEntry.get(e.entryId) ?? 0) + 1);

    // The run really was under load, with rollbacks, through every kill.
    expect(kills).toHaveLength(KILLS);
    expect(confirmedRollbacks).toBeGreaterThan(0);
    expect(entries.length).toBeGreaterThan(REQUESTS / 2);

    // Every acknowledged write committed (a 201 is durable).
    expect([...acked].filter((id) => !entryIds.has(id))).toEqual([]);
    // Every committed entry was handled exactly once in effect...
    expect(entries.filter((e) => effectsPerEntry.get(e.id) !== 1).map((e) => `${e.id}: ${effectsPerEntry.get(e.id) ?? 0} effects`)).toEqual([]);
    // ...and nothing else was.
    expect(effects.filter((e) => !entryIds.has(e.entryId)).map((e) => e.entryId)).toEqual([]);
    expect(new Set(effects.map((e) => e.eventId)).size).toBe(effects.length);
    const [total] = (await tally.db.select().from(tally.tables.totals)) as { count: number; sum: number }[];
    expect(total).toEqual({ id: 'all', count: entries.length, sum: entries.reduce((s, e) => s + e.amount, 0) });
    const inbox = await tally.db.select().from(tally.tables.inbox);
    expect(inbox).toHaveLength(entries.length);

    // No rolled-back write left a trace: no entry, no outbox row, no effect.
    const outbox = (await ledger.db.select().from(ledger.tables.outbox)) as { envelope: { payload: { entryId: string } } }[];
    expect(outbox).toHaveLength(entries.length);
    const published = new Set(outbox.map((r) => r.envelope.payload.entryId));
    const leaked = [...rolledBack].filter((id) => entryIds.has(id) || published.has(id) || effectsPerEntry.has(id));
    expect(leaked).toEqual([]);
    expect(await tally.db.select().from(tally.tables.deadLetters)).toEqual([]);

    console.log(
      `[crash ${bus}/${engine}] ${REQUESTS} requests (${acked.size} acknowledged, ${confirmedRollbacks} rolled back, ${failedRequests} cut by a kill), ` +
        `${KILLS} kills after ${kills.map((k) => k.afterAcked).join('/')} acks; ${entries.length} entries, ${effects.length} effects`,
    );
  }, 300_000); // bounded work (~15 s on a quiet machine); the slack is for process start-up on a loaded one
});
