// BUS=inprocess: deliveries are function calls in this process. The relay waits for each
// subscriber to handle the event (retrying with backoff) before it marks the outbox row
// dispatched, so a crash at any point leaves the row pending and it is delivered again.
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
      // In commit order, one event at a time: each subscriber sees a producer's events in order.
      for (const { envelope, subscribers } of batch) {
        await Promise.all(subscribers.map((s) => handle(s, envelope)));
      }
    },
    consume(module, consume) {
      consumers.set(module, consume);
    },
    redeliver: handle,
    async ready() {},
    async close() {},
  };
}
