// An event whose handler kills the process (kill -9 from inside: what an out-of-memory or a crashed
// native module does), delivered by BullMQ in a job with other events, among other jobs handled at
// the same time, on Postgres. Every job the dying worker held comes back stalled and goes to the
// quarantine queue, one job per event, where they are handled one at a time: the others are
// handled exactly once, and only the killer keeps dying, until its budget of stalls is spent and it
// alone is dead-lettered, unhandled. Nothing of a shared unit of work the kill cut short survives.
// (Before the quarantine, the whole job of five was dead-lettered, and so could be any job that
// happened to be in flight beside the killer each time.)
import { afterAll, describe, expect, it } from 'vitest';
import { inArray } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/platform/config/env.ts';
import { openModuleStore } from '../../src/platform/data/open-store.ts';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import { bullmqTransport } from '../../src/platform/bus/bullmq-transport.ts';
import { envelopeFor } from '../../src/platform/bus/envelope.ts';
import { createLogger } from '../../src/platform/logging/logger.ts';
import { EntryRecorded } from '../fixtures/modules/ledger/index.ts';
import { testKeysEnv } from '../support/keys.ts';
import { stageBusApp, type BusAppStage } from '../support/bus-app-stage.ts';
import { freePort, startTs } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { redisUrl } from '../support/databases.ts';

const KILLER = 666;
const MAX_ATTEMPTS = 3;

describe('an event that kills its worker, in a job with others (BullMQ on Postgres)', () => {
  let stage: BusAppStage | undefined;
  afterAll(() => stage?.teardown());

  it('is dead-lettered alone after its stalls, and the events beside it are handled exactly once', async () => {
    stage = await stageBusApp('pg', { BUS: 'bullmq', BUS_MAX_ATTEMPTS: String(MAX_ATTEMPTS), TALLY_KILL_AMOUNT: String(KILLER) });
    const { schemas, env } = stage;
    // The producer's side of the same queues: the settings the child runs with.
    const common = { redisUrl: redisUrl(), prefix: stage.prefix, maxAttempts: MAX_ATTEMPTS, retryDelayMs: 20, concurrency: 4, lockMs: Number(env.BUS_LOCK_MS) };

    // One job of five events, the killer in the middle, as the relay would queue them, and jobs of
    // other events queued with it: in flight beside the killer when it strikes.
    const entry = (amount: number) => envelopeFor('ledger', EntryRecorded, { entryId: `k-${amount}-${randomUUID()}`, amount });
    const events = [1, 2, KILLER, 3, 4].map(entry);
    const killer = events[2]!;
    const others = Array.from({ length: 60 }, (_, i) => entry(1 + (i % 5)));
    const producer = bullmqTransport({ ...common, eventsPerJob: 5, logger: createLogger('silent') });
    await producer.deliver([...others.slice(0, 30), ...events, ...others.slice(30)].map((envelope) => ({ envelope, subscribers: ['tally'] })));
    await producer.close();

    const config = loadConfig({ ...stage.storeEnv, ...testKeysEnv, LOG_LEVEL: 'silent' });
    const tally = (await openModuleStore(schemas[1]!, config, 'killer-test')) as unknown as ModuleStore<any>;
    stage.cleanups.push(() => tally.close());
    const everything = [...events, ...others];
    const entryIds = everything.map((e) => (e.payload as { entryId: string }).entryId);
    const read = async () => {
      const effects = (await tally.db.select().from(tally.tables.effects).where(inArray(tally.tables.effects.entryId, entryIds))) as { entryId: string }[];
      const letters = (await tally.db.select().from(tally.tables.deadLetters)) as { eventId: string; reason: string; attempts: number }[];
      return { effects, letters };
    };

    // Whenever the process dies (the killer did it), start it again, as an orchestrator would.
    let deaths = 0;
    let output = '';
    const start = async () => {
      const mine = (stage!.child = startTs('test/fixtures/bus-app.ts', { ...env, PORT: String(await freePort()), INTERNAL_PORT: String(await freePort()) }));
      void mine.exited.then((exit) => {
        output += mine.output();
        if (exit.signal === 'SIGKILL') deaths++;
      });
    };
    await start();
    const state = await eventually(
      async () => {
        const running = stage!.child!.proc;
        if (running.exitCode !== null || running.signalCode !== null) await start();
        const s = await read();
        // Done once the killer is dead-lettered and the rest handled, or as soon as anything else is dead-lettered.
        return ((s.letters.length > 0 && s.effects.length >= everything.length - 1) || s.letters.length > 1) && s;
      },
      'the killer dead-lettered and the others handled',
      240_000,
      200,
    ).catch((err) => {
      throw new Error(`${(err as Error).message} after ${deaths} deaths\n--- child output ---\n${(output + (stage?.child?.output() ?? '')).slice(-4000)}`);
    });

    // The killer died MAX_ATTEMPTS times in all: once in its job of five, then alone in quarantine.
    expect(deaths).toBeGreaterThanOrEqual(MAX_ATTEMPTS);
    expect(state.letters.map((l) => l.eventId)).toEqual([killer.id]);
    expect(state.letters[0]!.reason).toBe(`its worker stopped ${MAX_ATTEMPTS} time(s) while handling it (process crash or lost lock)`);
    const perEntry = entryIds.map((id) => state.effects.filter((e) => e.entryId === id).length);
    expect(perEntry).toEqual(everything.map((e) => (e === killer ? 0 : 1)));
    // Still so once the process is left alone for a while: nothing else comes back.
    await new Promise((r) => setTimeout(r, 3 * common.lockMs));
    const after = await read();
    expect(after.letters.map((l) => l.eventId)).toEqual([killer.id]);
    expect(after.effects).toHaveLength(everything.length - 1);
  }, 300_000);
});
