// The BullMQ transport's handling of jobs whose worker died under them (kill -9, lost lock):
// BullMQ returns them as stalled; past the event's budget they must land in our dead letters,
// not in BullMQ's failed set where nobody looks.
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { bullmqTransport, quarantineName, queueName } from './bullmq-transport.ts';
import { createLogger } from '../logging/logger.ts';
import type { ConsumeFn } from './transport.ts';
import type { EventEnvelope } from './envelope.ts';
import { redisUrl } from '../../../test/support/databases.ts';
import { busPrefix } from '../../../test/support/redis.ts';
import { eventually } from '../../../test/support/eventually.ts';

describe('bullmq transport', () => {
  const redis = busPrefix();
  const transport = bullmqTransport({
    redisUrl: redisUrl(),
    prefix: redis.prefix,
    maxAttempts: 3,
    retryDelayMs: 10,
    concurrency: 2,
    lockMs: 2000,
    logger: createLogger('silent'),
  });
  afterAll(async () => {
    await transport.close();
    await redis.cleanup();
  });

  const envelope = (n: number): EventEnvelope => ({
    id: randomUUID(), type: 'EntryRecorded', version: 1, source: 'ledger', occurredAt: new Date().toISOString(), correlationId: 'c', payload: { entryId: `e${n}`, amount: n },
  });

  it('dead-letters an event whose worker stopped under it too often, without running its handler again, and still handles one that stalled less', async () => {
    const deadly = envelope(1);
    const survivor = envelope(2);
    await transport.deliver([{ envelope: deadly, subscribers: ['tally'] }, { envelope: survivor, subscribers: ['tally'] }]);
    // What BullMQ's stalled-job check records each time it takes a job back from a dead worker.
    const r = new Redis(redisUrl());
    await r.hset(`${redis.prefix}:${queueName('tally')}:${deadly.id}`, 'stc', '3');
    await r.hset(`${redis.prefix}:${queueName('tally')}:${survivor.id}`, 'stc', '2');
    r.disconnect();

    const handled: { id: string; attempt: number }[] = [];
    const givenUp: { id: string; reason: string; attempts: number }[] = [];
    const consume: ConsumeFn = Object.assign(async (e: EventEnvelope, attempt: number) => {
      handled.push({ id: e.id, attempt });
    }, {
      giveUp: async (e: EventEnvelope, reason: string, attempts: number) => {
        givenUp.push({ id: e.id, reason, attempts });
      },
      together: async () => {
        throw new Error('single-event jobs only here');
      },
    });
    transport.consume('tally', consume);

    await eventually(() => handled.length === 1 && givenUp.length === 1, 'both jobs taken');
    expect(handled).toEqual([{ id: survivor.id, attempt: 1 }]);
    expect(givenUp).toEqual([{ id: deadly.id, reason: 'its worker stopped 3 time(s) while handling it (process crash or lost lock)', attempts: 3 }]);
  });

  it('adds one job per replay, even for replays of one event in the same millisecond', async () => {
    const e = envelope(3);
    await Promise.all([transport.redeliver('replays', e), transport.redeliver('replays', e), transport.redeliver('replays', e)]);
    const r = new Redis(redisUrl());
    const waiting = await r.llen(`${redis.prefix}:${queueName('replays')}:wait`);
    r.disconnect();
    expect(waiting).toBe(3);
  });

  it('moves a batched job whose worker stopped under it to the quarantine queue, one job per event, carrying its stalls and attempts', async () => {
    const batching = bullmqTransport({ redisUrl: redisUrl(), prefix: redis.prefix, maxAttempts: 3, retryDelayMs: 10, concurrency: 2, lockMs: 2000, eventsPerJob: 3, logger: createLogger('silent') });
    const r = new Redis(redisUrl());
    try {
      const events = [envelope(4), envelope(5), envelope(6)];
      await batching.deliver(events.map((e) => ({ envelope: e, subscribers: ['batched'] })));
      const [jobId] = await r.lrange(`${redis.prefix}:${queueName('batched')}:wait`, 0, -1);
      // Taken back from a dead worker once, after a first attempt that failed: it may hold the
      // event that kills the process.
      await r.hset(`${redis.prefix}:${queueName('batched')}:${jobId}`, 'stc', '1', 'atm', '1');
      const handled: { id: string; attempt: number; maxAttempts: number }[] = [];
      const together: string[][] = [];
      const givenUp: string[] = [];
      const consume: ConsumeFn = Object.assign(async (e: EventEnvelope, attempt: number, maxAttempts: number) => void handled.push({ id: e.id, attempt, maxAttempts }), {
        giveUp: async (e: EventEnvelope) => void givenUp.push(e.id),
        together: async (es: readonly EventEnvelope[]) => {
          together.push(es.map((e) => e.id));
          return es.map(() => ({ status: 'fulfilled', value: undefined }) as const);
        },
      });
      batching.consume('batched', consume);
      await eventually(() => handled.length === 3, 'each event handled as a job of its own');
      expect(handled.map((h) => h.id).sort()).toEqual(events.map((e) => e.id).sort());
      // The attempt it had used counts: this is each event's second of three.
      expect(handled.every((h) => h.attempt === 2 && h.maxAttempts === 3)).toBe(true);
      expect(together).toEqual([]);
      expect(givenUp).toEqual([]);
      // One job per event, named after the job it came from (a move repeated after another crash adds nothing), with the stall it came back from.
      const moved = events.map((e) => `${redis.prefix}:${quarantineName('batched')}:${e.id}_of_${jobId}`);
      expect((await r.keys(`${redis.prefix}:${quarantineName('batched')}:*_of_${jobId}`)).sort()).toEqual(moved.sort());
      for (const key of moved) {
        expect(JSON.parse((await r.hget(key, 'data'))!)).toMatchObject({ stalls: 1, attempts: 1 });
        expect(JSON.parse((await r.hget(key, 'opts'))!)).toMatchObject({ attempts: 2 });
      }
    } finally {
      r.disconnect();
      await batching.close();
    }
  });
});
