// Moves committed outbox rows to the transport. It runs right after each commit that published
// something (kick) and on a slow poll, which also picks up rows left by a crash or written by
// another process sharing the store. A row is marked dispatched only after the transport has
// taken it safely, so delivery is at-least-once; inboxes make it exactly-once in effect.
// While events keep coming, a pass starts at most once every `gatherMs` (BUS_GATHER_MS): a kick
// soon after a pass began waits for the rest of that time, so a busy module's events go in fewer,
// larger batches. Every pass costs the same whatever it carries (a read, a mark and its commit,
// and on a broker a job per subscribing module), and batches left to form on their own shrank as
// the store got faster. A kick after a quiet spell starts a pass at once.
import { context, trace, ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ModuleStore } from '../data/module-store.ts';
import { contextFromTraceparent, currentTraceparent, tracer } from '../observability/trace-context.ts';
import type { Logger } from '../logging/logger.ts';
import type { EventRouting } from './event-routing.ts';
import type { Delivery, Transport } from './transport.ts';
import type { BusMetrics } from './bus-metrics.ts';
import { backoffDelay } from './backoff.ts';

export interface OutboxRelay {
  kick(): void;
  start(): void;
  stop(): Promise<void>;
}

export function outboxRelay(o: {
  store: ModuleStore;
  routing: EventRouting;
  transport: Transport;
  metrics: BusMetrics;
  logger: Logger;
  pollMs: number;
  batchSize?: number;
  /** The least time between the starts of two passes; 0: a pass follows a kick at once. */
  gatherMs?: number;
}): OutboxRelay {
  const batchSize = o.batchSize ?? 200;
  const gatherMs = o.gatherMs ?? 0;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  /** When the last pass started (performance.now()), and the timer of a pass waiting for its turn. */
  let lastStart = Number.NEGATIVE_INFINITY;
  let gathering: NodeJS.Timeout | undefined;

  async function drain(): Promise<void> {
    for (;;) {
      // A full batch may mean more are waiting: read again at once.
      if ((await pass(() => stopped)) < batchSize) return;
    }
  }

  /** Reads up to a batch of pending rows, hands them over and marks them; answers how many it took. */
  async function pass(abandon: () => boolean): Promise<number> {
    const rows = await o.store.platform.pendingOutbox(batchSize);
    if (rows.length === 0 || abandon()) return 0;
    const batch = rows.map((r) => ({ envelope: r.envelope, subscribers: o.routing(r.type) })).filter((d) => d.subscribers.length > 0);
    if (batch.length) await publish(batch);
    // A unit of one UPDATE held for its COMMIT: on Postgres one round trip without BEGIN, shared
    // with the store's other units ending in the same turn (decision 29).
    await o.store.transaction((tx) => o.store.platform.markDispatched(tx, rows.map((r) => r.seq), new Date()));
    o.metrics.dispatched.inc({ module: o.store.module }, rows.length);
    return rows.length;
  }

  /**
   * One publish span per event, under the span that wrote it (the envelope's traceparent): the
   * event leaves with the publish span as its traceparent, so the subscriber's handling hangs
   * below the moment it was sent, and the stored row keeps the writer's context for a resend.
   */
  async function publish(batch: Delivery[]): Promise<void> {
    const spans = batch.map((d) =>
      tracer.startSpan(
        `publish ${d.envelope.type}`,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            'messaging.operation.type': 'send',
            'messaging.system': o.transport.kind,
            'messaging.destination.name': d.envelope.type,
            'messaging.message.id': d.envelope.id,
            'messaging.batch.message_count': batch.length,
          },
        },
        contextFromTraceparent(d.envelope.traceparent),
      ),
    );
    const sent = batch.map((d, i) => {
      const traceparent = currentTraceparent(trace.setSpan(ROOT_CONTEXT, spans[i]!));
      return traceparent ? { ...d, envelope: { ...d.envelope, traceparent } } : d;
    });
    try {
      await o.transport.deliver(sent);
    } catch (err) {
      for (const span of spans) span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      for (const span of spans) span.end();
    }
  }

  function run(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    if (gathering) return;
    const wait = lastStart + gatherMs - performance.now();
    if (wait > 0) {
      // Unreferenced like the poll: a process on its way out does not wait for it (stop() clears it).
      gathering = setTimeout(() => {
        gathering = undefined;
        run();
      }, wait);
      gathering.unref();
      return;
    }
    lastStart = performance.now();
    // The relay's own work, not part of whichever request's commit kicked it.
    running = context.with(ROOT_CONTEXT, drain)
      .then(() => {
        failures = 0;
      })
      .catch((err) => {
        failures++;
        o.logger.warn({ err, module: o.store.module, failures }, 'outbox relay failed; will retry');
        // A broken transport must not spin: back off, then try again.
        setTimeout(run, backoffDelay(failures, 200, 10_000)).unref();
      })
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          run();
        }
      });
  }

  return {
    kick: run,
    start() {
      timer = setInterval(run, o.pollMs);
      timer.unref();
      run();
    },
    async stop() {
      // A pass owed (waiting for its window, or asked for during the one running) is made once
      // more before the relay stops: a clean stop sends what it gathered rather than leaving it to
      // the next start, or to another instance's poll.
      const owed = gathering !== undefined || again;
      stopped = true;
      if (timer) clearInterval(timer);
      if (gathering) clearTimeout(gathering);
      gathering = undefined;
      await running;
      if (owed) {
        await context.with(ROOT_CONTEXT, () => pass(() => false)).catch((err) => o.logger.warn({ err, module: o.store.module }, 'outbox relay: the last pass before stopping failed; its rows stay for the next one'));
      }
    },
  };
}
