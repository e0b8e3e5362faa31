// BullMQ jobs that carry several events: each event is still handled once through the inbox, a
// failing event goes round again alone, and jobs of both shapes (a batch, a bare envelope as
// versions before batching queued it) are taken by the same worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { bootApp, type TestApp } from '../../../test/support/boot.ts';
import { eventually } from '../../../test/support/eventually.ts';
import { redisUrl } from '../../../test/support/databases.ts';
import { busPrefix } from '../../../test/support/redis.ts';
import { busFixtures } from '../../../test/support/fixture-modules.ts';
import type { ModuleStore } from '../data/module-store.ts';
import { newId } from '../data/ids.ts';
import { queueName } from './bullmq-transport.ts';
import type { EventEnvelope } from './envelope.ts';

describe('bullmq jobs carrying several events', () => {
  let t: TestApp;
  let tally: ModuleStore<any>;
  const redis = busPrefix();

  beforeAll(async () => {
    t = await bootApp({
      engine: 'sqlite',
      fixtures: busFixtures(),
      env: { BUS: 'bullmq', REDIS_URL: redisUrl(), BUS_PREFIX: redis.prefix, BUS_MAX_ATTEMPTS: '3', BUS_RETRY_DELAY_MS: '10', BUS_POLL_MS: '100', BUS_EVENTS_PER_JOB: '4' },
    });
    tally = t.app.stores.get('tally')!;
  });
  afterAll(async () => {
    await t?.close();
    await redis.cleanup();
  });

  /** The tally fixture's handler: amount 7 fails its first two attempts, 13 always fails. */
  const entry = (amount: number): EventEnvelope => ({
    id: newId(), type: 'EntryRecorded', version: 1, source: 'ledger', occurredAt: new Date().toISOString(), correlationId: 'c', payload: { entryId: `batch-${randomUUID()}`, amount },
  });
  const entryId = (e: EventEnvelope) => (e.payload as { entryId: string }).entryId;
  const effectsFor = async (e: EventEnvelope) => ((await tally.db.select().from(tally.tables.effects).where(eq(tally.tables.effects.entryId, entryId(e)))) as unknown[]).length;
  const metric = async (pattern: RegExp) => {
    const m = pattern.exec(await (await fetch(`${t.internalUrl}/metrics`)).text());
    return m ? Number(m[1]) : 0;
  };
  const duplicates = () => metric(/bus_events_handled_total\{subscriber="tally",event="EntryRecorded\.v1",outcome="duplicate"[^}]*\} (\d+)/);
  const deadLetters = async () => (await t.app.bus.deadLetters('tally')) as { eventId: string; attempts: number; reason: string }[];
  const rawQueue = () => new Queue(queueName('tally'), { connection: { url: redisUrl(), maxRetriesPerRequest: null }, prefix: redis.prefix });

  it('puts up to BUS_EVENTS_PER_JOB events in one job and handles each once', async () => {
    const events = Array.from({ length: 6 }, () => entry(1));
    const queue = rawQueue();
    try {
      await queue.pause();
      await t.app.bus.transport.deliver(events.map((envelope) => ({ envelope, subscribers: ['tally'] })));
      const jobs = await queue.getJobs(['wait']);
      const mine = jobs.filter((j) => events.some((e) => JSON.stringify(j.data).includes(e.id)));
      expect(mine.map((j) => (j.data.events ? j.data.events.length : 1)).sort()).toEqual([2, 4]);
      await queue.resume();
    } finally {
      await queue.close();
    }
    await eventually(async () => (await Promise.all(events.map(effectsFor))).every((n) => n === 1), 'every event handled');
  });

  it('retries only the event that failed, without handling the others again', async () => {
    const before = await duplicates();
    const failures = () => metric(/bus_handler_failures_total\{subscriber="tally",event="EntryRecorded\.v1"[^}]*\} (\d+)/);
    const failedBefore = await failures();
    const flaky = entry(7);
    const events = [entry(1), flaky, entry(2), entry(3)];
    await t.app.bus.transport.deliver(events.map((envelope) => ({ envelope, subscribers: ['tally'] })));
    await eventually(async () => (await Promise.all(events.map(effectsFor))).every((n) => n === 1), 'all handled, the flaky one on its third attempt');
    expect(await failures()).toBe(failedBefore + 2);
    // The three that succeeded the first time were not taken again: no inbox duplicate was seen.
    expect(await duplicates()).toBe(before);
  });

  it('dead-letters a poison event of a job and keeps the others handled', async () => {
    const poison = entry(13);
    const events = [entry(1), poison, entry(1)];
    await t.app.bus.transport.deliver(events.map((envelope) => ({ envelope, subscribers: ['tally'] })));
    const dl = await eventually(async () => (await deadLetters()).find((d) => d.eventId === poison.id), 'poison dead-lettered');
    expect(dl).toMatchObject({ attempts: 3 });
    expect(dl.reason).toContain('thirteen is unlucky');
    expect(await effectsFor(poison)).toBe(0);
    expect(await effectsFor(events[0]!)).toBe(1);
    expect(await effectsFor(events[2]!)).toBe(1);
  });

  it('applies an event once however it is cut into jobs when a relay sends it again', async () => {
    const events = [entry(1), entry(2), entry(3), entry(4), entry(5)];
    const deliveries = events.map((envelope) => ({ envelope, subscribers: ['tally'] }));
    const before = await duplicates();
    await t.app.bus.transport.deliver(deliveries);
    // The same rows again, as after a crash before the relay's mark: the same jobs, added once.
    await t.app.bus.transport.deliver(deliveries);
    // Cut differently (a later pass that starts one row further): the inbox skips what was handled.
    await t.app.bus.transport.deliver(deliveries.slice(1));
    await eventually(async () => (await duplicates()) >= before + 4, 'the re-cut jobs seen as duplicates');
    expect(await Promise.all(events.map(effectsFor))).toEqual([1, 1, 1, 1, 1]);
  });

  it('takes a job holding one bare envelope (the shape before batching, and of replays) beside batched ones', async () => {
    const old = entry(1);
    const batched = [entry(2), entry(3)];
    const queue = rawQueue();
    try {
      await queue.add('EntryRecorded.v1', old, { jobId: old.id, attempts: 3 });
    } finally {
      await queue.close();
    }
    await t.app.bus.transport.deliver(batched.map((envelope) => ({ envelope, subscribers: ['tally'] })));
    await eventually(async () => (await Promise.all([old, ...batched].map(effectsFor))).every((n) => n === 1), 'both shapes handled');
  });
});
