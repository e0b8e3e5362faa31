// Moves committed outbox rows to the transport. It runs right after each commit that published
// something (kick) and on a slow poll, which also picks up rows left by a crash or written by
// another process sharing the store. A row is marked dispatched only after the transport has
// taken it safely, so delivery is at-least-once; inboxes make it exactly-once in effect.
import type { ModuleStore } from '../data/module-store.ts';
import type { Logger } from '../logging/logger.ts';
import type { EventRouting } from './event-routing.ts';
import type { Transport } from './transport.ts';
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
}): OutboxRelay {
  const batchSize = o.batchSize ?? 200;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;

  async function drain(): Promise<void> {
    for (;;) {
      const rows = await o.store.platform.pendingOutbox(batchSize);
      if (rows.length === 0 || stopped) return;
      const batch = rows.map((r) => ({ envelope: r.envelope, subscribers: o.routing(r.type) })).filter((d) => d.subscribers.length > 0);
      if (batch.length) await o.transport.deliver(batch);
      await o.store.transaction((tx) => o.store.platform.markDispatched(tx, rows.map((r) => r.seq), new Date()));
      o.metrics.dispatched.inc({ module: o.store.module }, rows.length);
      if (rows.length < batchSize) return;
    }
  }

  function run(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = drain()
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
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
