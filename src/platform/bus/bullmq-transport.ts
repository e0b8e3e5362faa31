// BUS=bullmq: one BullMQ queue per subscribing module. Every process hosting that module runs a
// worker on its queue, so instances compete and each event is taken by one of them; BullMQ's
// retries (exponential backoff with jitter) and stalled-job recovery give at-least-once delivery,
// and the subscriber's inbox turns that into exactly-once effects.
import { Queue, Worker, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging/logger.ts';
import type { ConsumeFn, Delivery, Transport } from './transport.ts';
import { eventKey, type EventEnvelope } from './envelope.ts';

export interface BullmqOptions {
  redisUrl: string;
  prefix: string;
  maxAttempts: number;
  retryDelayMs: number;
  concurrency: number;
  lockMs: number;
  logger: Logger;
}

/** BullMQ's stall limit, lifted: stalls are counted against the event's budget in the processor. */
const STALLS_UNLIMITED = 1_000_000;

export function queueName(module: string): string {
  return `events.${module}`;
}

export function bullmqTransport(o: BullmqOptions): Transport {
  const connection: ConnectionOptions = { url: o.redisUrl, maxRetriesPerRequest: null };
  const queues = new Map<string, Queue>();
  const workers: Worker[] = [];
  const health = new Redis(o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  health.on('error', () => {});
  const jobOptions: JobsOptions = {
    attempts: o.maxAttempts,
    backoff: { type: 'exponential', delay: o.retryDelayMs, jitter: 0.5 },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };

  const queue = (module: string) => {
    let q = queues.get(module);
    if (!q) {
      q = new Queue(queueName(module), { connection, prefix: o.prefix });
      q.on('error', (err) => o.logger.warn({ err, module }, 'bus queue error'));
      queues.set(module, q);
    }
    return q;
  };

  return {
    kind: 'bullmq',
    async deliver(batch: readonly Delivery[]) {
      const perModule = new Map<string, EventEnvelope[]>();
      for (const { envelope, subscribers } of batch) {
        for (const s of subscribers) {
          const list = perModule.get(s);
          if (list) list.push(envelope);
          else perModule.set(s, [envelope]);
        }
      }
      await Promise.all(
        [...perModule].map(([module, envelopes]) =>
          // jobId = event id: a relay that delivers the same row twice adds one job, not two.
          queue(module).addBulk(envelopes.map((e) => ({ name: eventKey(e), data: e, opts: { ...jobOptions, jobId: e.id } }))),
        ),
      );
    },
    consume(module, consume: ConsumeFn) {
      const worker = new Worker(
        queueName(module),
        async (job) => {
          // A job whose worker died under it (kill -9, lost lock) comes back as stalled. BullMQ's
          // own limit would fail it silently outside our dead letters, so its limit is lifted and
          // the budget is kept here: past maxAttempts stalls the event is dead-lettered, unhandled.
          if (job.stalledCounter >= o.maxAttempts) {
            return consume.giveUp(job.data as EventEnvelope, `its worker stopped ${job.stalledCounter} time(s) while handling it (process crash or lost lock)`, job.attemptsMade + job.stalledCounter);
          }
          return consume(job.data as EventEnvelope, job.attemptsMade + 1, job.opts.attempts ?? 1);
        },
        {
          connection,
          prefix: o.prefix,
          concurrency: o.concurrency,
          lockDuration: o.lockMs,
          stalledInterval: Math.max(1000, Math.floor(o.lockMs / 2)),
          maxStalledCount: STALLS_UNLIMITED,
          autorun: true,
        },
      );
      worker.on('error', (err) => o.logger.warn({ err, module }, 'bus worker error'));
      workers.push(worker);
    },
    async redeliver(module, envelope) {
      // A fresh job id per replay: two replays in the same millisecond must be two jobs, or
      // BullMQ would take the second for the first and drop it.
      await queue(module).add(eventKey(envelope), envelope, { ...jobOptions, jobId: `${envelope.id}-replay-${randomUUID()}` });
    },
    async ready() {
      if (health.status === 'wait') await health.connect();
      await health.ping();
    },
    async close() {
      await Promise.allSettled(workers.map((w) => w.close()));
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
      health.disconnect();
    },
  };
}
