// An event whose handler kills the process (kill -9 from inside: what an out-of-memory or a crashed
// native module does), delivered by BullMQ in a job with other events, on Postgres. The job comes
// back stalled after each death; the first time it is split into one job per event, so the others
// are handled exactly once and only the killer keeps stalling, until its budget of stalls is spent
// and it alone is dead-lettered, unhandled. Nothing of a shared unit of work the kill cut short
// survives. (Without the split the whole job of five was dead-lettered.)
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
import { prepareStore } from '../support/boot.ts';
import { busFixtures } from '../support/fixture-modules.ts';
import { freePort, startTs, type Child } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { redisUrl } from '../support/databases.ts';
import { busPrefix } from '../support/redis.ts';

const KILLER = 666;
const MAX_ATTEMPTS = 3;

describe('an event that kills its worker, in a job with others (BullMQ on Postgres)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  let child: Child | undefined;

  afterAll(async () => {
    if (child && child.proc.exitCode === null && child.proc.signalCode === null) {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  it('is dead-lettered alone after its stalls, and the events beside it are handled exactly once', async () => {
    const schemas = busFixtures().map((m) => m.schema);
    const store = await prepareStore('pg', schemas);
    cleanups.push(store.cleanup);
    const redis = busPrefix();
    cleanups.push(redis.cleanup);
    const common = { redisUrl: redisUrl(), prefix: redis.prefix, maxAttempts: MAX_ATTEMPTS, retryDelayMs: 20, concurrency: 4, lockMs: 2000 };
    const env: Record<string, string> = {
      ...store.env,
      ...testKeysEnv,
      HOST: '127.0.0.1',
      SEED: 'false',
      LOG_LEVEL: 'warn',
      BUS: 'bullmq',
      REDIS_URL: redisUrl(),
      BUS_PREFIX: redis.prefix,
      BUS_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      BUS_RETRY_DELAY_MS: '20',
      // A dead worker's job is locked until this runs out: short, so it comes back soon.
      BUS_LOCK_MS: String(common.lockMs),
      TALLY_KILL_AMOUNT: String(KILLER),
      // One job at a time: a worker that dies takes every job it holds with it, and each of those
      // counts a stall (BullMQ cannot tell which one killed it). With one at a time, the only job
      // held when the killer runs is the killer's own.
      BUS_CONCURRENCY: '1',
    };

    // One job of five events, the killer in the middle, as the relay would queue them.
    const events = [1, 2, KILLER, 3, 4].map((amount) => envelopeFor('ledger', EntryRecorded, { entryId: `k-${amount}-${randomUUID()}`, amount }));
    const killer = events[2]!;
    const producer = bullmqTransport({ ...common, eventsPerJob: 10, logger: createLogger('silent') });
    await producer.deliver(events.map((envelope) => ({ envelope, subscribers: ['tally'] })));
    await producer.close();

    const config = loadConfig({ ...store.env, ...testKeysEnv, LOG_LEVEL: 'silent' });
    const tally = (await openModuleStore(schemas[1]!, config, 'killer-test')) as unknown as ModuleStore<any>;
    cleanups.push(() => tally.close());
    const entryIds = events.map((e) => (e.payload as { entryId: string }).entryId);
    const read = async () => {
      const effects = (await tally.db.select().from(tally.tables.effects).where(inArray(tally.tables.effects.entryId, entryIds))) as { entryId: string }[];
      const letters = (await tally.db.select().from(tally.tables.deadLetters)) as { eventId: string; reason: string; attempts: number }[];
      return { effects, letters };
    };

    // Whenever the process dies (the killer did it), start it again, as an orchestrator would.
    let deaths = 0;
    let output = '';
    const start = async () => {
      child = startTs('test/fixtures/bus-app.ts', { ...env, PORT: String(await freePort()), INTERNAL_PORT: String(await freePort()) });
      const mine = child;
      void mine.exited.then((exit) => {
        output += mine.output();
        if (exit.signal === 'SIGKILL') deaths++;
      });
    };
    await start();
    const state = await eventually(
      async () => {
        if (child!.proc.exitCode !== null || child!.proc.signalCode !== null) await start();
        const s = await read();
        // Done once the killer is dead-lettered and the rest handled, or as soon as anything else is dead-lettered.
        return ((s.letters.length > 0 && s.effects.length >= 4) || s.letters.length > 1) && s;
      },
      'the killer dead-lettered and the others handled',
      240_000,
      200,
    ).catch((err) => {
      throw new Error(`${(err as Error).message} after ${deaths} deaths\n--- child output ---\n${(output + (child?.output() ?? '')).slice(-4000)}`);
    });

    // The first death took the job of five, then the killer's own job died MAX_ATTEMPTS times.
    expect(deaths).toBeGreaterThanOrEqual(1 + MAX_ATTEMPTS);
    expect(state.letters.map((l) => l.eventId)).toEqual([killer.id]);
    expect(state.letters[0]!.reason).toBe(`its worker stopped ${MAX_ATTEMPTS} time(s) while handling it (process crash or lost lock)`);
    const perEntry = entryIds.map((id) => state.effects.filter((e) => e.entryId === id).length);
    expect(perEntry).toEqual([1, 1, 0, 1, 1]);
    // Still so once the process is left alone for a while: nothing else comes back.
    await new Promise((r) => setTimeout(r, 3 * common.lockMs));
    const after = await read();
    expect(after.letters.map((l) => l.eventId)).toEqual([killer.id]);
    expect(after.effects).toHaveLength(4);
  }, 300_000);
});
