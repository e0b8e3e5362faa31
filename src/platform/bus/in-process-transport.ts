// BUS=inprocess: deliveries are function calls in this process. The relay waits for each
// subscriber to handle the event (retrying with backoff) before it marks the outbox row
// dispatched, so a crash at any point leaves the row pending and it is delivered again.
// A relay batch is handed to its subscribers at once: each subscriber's first attempts start in
// commit order in the same event-loop turn, so on SQLite they queue in that order and share one
// group commit instead of one transaction each. An event whose handler fails is tried again after
// its backoff, so after the events behind it, as a broker's retry would be; subscribers tolerate
// that (the inbox drops duplicates, projections merge out-of-order events).
import type { ConsumeFn, Delivery, Transport } from './transport.ts';
import type { EventEnvelope } from './envelope.ts';
import { backoffDelay, sleep } from './backoff.ts';

export function inProcessTransport(options: { maxAttempts: number; retryDelayMs: number }): Transport {
  const consumers = new Map<string, ConsumeFn>();

  async function handle(module: string, envelope: EventEnvelope): Promise<void> {
    const consume = consumers.get(module);
    if (!consume) throw new Error(`${module} subscribes to ${envelope.type} but does not run in this process; use BUS=bullmq`);
    for (let attempt = 1; ; attempt++) {
      try {
        // The consumer dead-letters on its last attempt instead of throwing.
        await consume(envelope, attempt, options.maxAttempts);
        return;
      } catch {
        await sleep(backoffDelay(attempt, options.retryDelayMs));
      }
    }
  }

  return {
    kind: 'inprocess',
    async deliver(batch: readonly Delivery[]) {
      // Every delivery is under way before any is awaited; deliver resolves once all are handled
      // (or dead-lettered), so the relay marks nothing dispatched that a crash could still lose.
      const handling: Promise<void>[] = [];
      for (const { envelope, subscribers } of batch) {
        for (const s of subscribers) handling.push(handle(s, envelope));
      }
      const outcomes = await Promise.allSettled(handling);
      const failed = outcomes.find((o) => o.status === 'rejected');
      if (failed) throw failed.reason;
    },
    consume(module, consume) {
      consumers.set(module, consume);
    },
    redeliver: handle,
    async ready() {},
    async close() {},
  };
}
