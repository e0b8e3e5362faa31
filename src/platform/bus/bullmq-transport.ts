// BUS=bullmq: one BullMQ queue per subscribing module. Every process hosting that module runs a
// worker on its queue, so instances compete and each event is taken by one of them; BullMQ's
// retries (exponential backoff with jitter) and stalled-job recovery give at-least-once delivery,
// and the subscriber's inbox turns that into exactly-once effects.
//
// A job carries up to BUS_EVENTS_PER_JOB events (`{ events: [...] }`): BullMQ's cost is per job (a
// few Redis round trips to take it, lock it, complete it), so one job for many events is most of
// what the outbox path gains. The events of a job share one unit of work, each with its own inbox
// claim and outcome; if one fails, each is handled in a unit of its own (inbox-consumer.ts
// `together`), and the job keeps only those that failed (updateData) and fails, so BullMQ's backoff
// retries them without redoing the others. A job whose worker died under it goes to the module's
// quarantine queue, one job per event, handled one at a time, so an event that kills the process
// is dead-lettered alone. A job holding a single envelope (the shape before batching, and of
// replays) is still taken, so jobs queued by an older version are handled by this one.
import { Queue, Worker, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
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
  /** Events per job at most; 1 sends the single-envelope jobs every version understands. */
  eventsPerJob?: number;
  logger: Logger;
}

/** What a job carries: several events, or one bare envelope (older versions, replays). */
type JobData = { events: EventEnvelope[] } | EventEnvelope;

function eventsOf(data: JobData): EventEnvelope[] {
  return data && typeof data === 'object' && Array.isArray((data as { events?: unknown }).events) ? (data as { events: EventEnvelope[] }).events : [data as EventEnvelope];
}

/** BullMQ's stall limit, lifted: stalls are counted against the event's budget in the processor. */
const STALLS_UNLIMITED = 1_000_000;

export function queueName(module: string): string {
  return `events.${module}`;
}

/** Where a module's events go after a worker died holding them: handled one at a time. */
export function quarantineName(module: string): string {
  return `events.${module}.quarantine`;
}

/** A quarantined event, the stalls it has been through so far and the attempts it has used. */
interface Quarantined {
  event: EventEnvelope;
  stalls: number;
  attempts?: number;
}

export function bullmqTransport(o: BullmqOptions): Transport {
  const connection: ConnectionOptions = { url: o.redisUrl, maxRetriesPerRequest: null };
  const perJob = Math.max(1, o.eventsPerJob ?? 1);
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

  const queue = (name: string) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection, prefix: o.prefix });
      q.on('error', (err) => o.logger.warn({ err, queue: name }, 'bus queue error'));
      queues.set(name, q);
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
        [...perModule].map(([module, envelopes]) => {
          if (perJob === 1) {
            // jobId = event id: a relay that delivers the same row twice adds one job, not two.
            return queue(queueName(module)).addBulk(envelopes.map((e) => ({ name: eventKey(e), data: e, opts: { ...jobOptions, jobId: e.id } })));
          }
          const jobs = [];
          for (let i = 0; i < envelopes.length; i += perJob) {
            const events = envelopes.slice(i, i + perJob);
            // A relay that sends the same rows again (a crash before its mark) reads them in the same
            // order and cuts them the same way, so the same job id comes back and BullMQ adds nothing;
            // where the cut differs, each event's inbox claim still makes the second delivery a no-op.
            const jobId = events.length === 1 ? events[0]!.id : `${events[0]!.id}_${events.at(-1)!.id}_${events.length}`;
            jobs.push({ name: events.length === 1 ? eventKey(events[0]!) : 'events', data: events.length === 1 ? events[0]! : { events }, opts: { ...jobOptions, jobId } });
          }
          return queue(queueName(module)).addBulk(jobs);
        }),
      );
    },
    consume(module, consume: ConsumeFn) {
      const main = async (job: Job) => {
        const events = eventsOf(job.data as JobData);
        // A job whose worker died under it (kill -9, lost lock) comes back as stalled, and one of
        // its events may be what kills the process. Its events go to the quarantine queue, one job
        // each, carrying the stalls and the handler attempts so far (and only the attempts left):
        // handled there one at a time, only the killer keeps dying (see `quarantined`). The ids
        // come from this job's, so a move repeated after another crash adds nothing.
        if (job.stalledCounter > 0) {
          o.logger.warn({ module, job: job.id, events: events.length, stalls: job.stalledCounter }, 'bus job came back from a worker that stopped; its events are handled one at a time');
          const left = Math.max(1, (job.opts.attempts ?? o.maxAttempts) - job.attemptsMade);
          await queue(quarantineName(module)).addBulk(
            events.map((event) => ({
              name: eventKey(event),
              data: { event, stalls: job.stalledCounter, attempts: job.attemptsMade } satisfies Quarantined,
              opts: { ...jobOptions, attempts: left, jobId: `${event.id}_of_${job.id}` },
            })),
          );
          return;
        }
        const attempt = job.attemptsMade + 1;
        const maxAttempts = job.opts.attempts ?? 1;
        if (events.length === 1) return consume(events[0]!, attempt, maxAttempts);
        // Every event of the job in one unit of work (each falling back to its own if any fails).
        const outcomes = await consume.together(events, attempt, maxAttempts);
        const failed = events.filter((_, i) => outcomes[i]!.status === 'rejected');
        if (failed.length === 0) return;
        // Only the failures go round again: every event still in the job has failed every attempt
        // so far, so the job's attempt count is each one's own.
        if (failed.length < events.length) await job.updateData({ events: failed });
        throw (outcomes.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
      };
      // One job at a time: a worker that dies takes every job it holds with it, and each of those
      // counts a stall (BullMQ cannot tell which one killed it). Here the only one held is the one
      // that ran, so an event that kills the process spends its own budget of stalls and is then
      // dead-lettered, unhandled (BullMQ's own stall limit would fail it silently outside our dead
      // letters: it is lifted, and the budget kept here), while the others it came with are handled.
      const quarantined = async (job: Job) => {
        const { event, stalls, attempts = 0 } = job.data as Quarantined;
        const total = stalls + job.stalledCounter;
        const used = attempts + job.attemptsMade;
        if (total >= o.maxAttempts) {
          return consume.giveUp(event, `its worker stopped ${total} time(s) while handling it (process crash or lost lock)`, used + total);
        }
        return consume(event, used + 1, attempts + (job.opts.attempts ?? 1));
      };
      for (const [name, processor, concurrency] of [
        [queueName(module), main, o.concurrency],
        [quarantineName(module), quarantined, 1],
      ] as const) {
        const worker = new Worker(name, processor, {
          connection,
          prefix: o.prefix,
          concurrency,
          lockDuration: o.lockMs,
          stalledInterval: Math.max(1000, Math.floor(o.lockMs / 2)),
          maxStalledCount: STALLS_UNLIMITED,
          autorun: true,
        });
        worker.on('error', (err) => o.logger.warn({ err, module }, 'bus worker error'));
        workers.push(worker);
      }
    },
    async redeliver(module, envelope) {
      // A fresh job id per replay: two replays in the same millisecond must be two jobs, or
      // BullMQ would take the second for the first and drop it.
      await queue(queueName(module)).add(eventKey(envelope), envelope, { ...jobOptions, jobId: `${envelope.id}-replay-${randomUUID()}` });
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
