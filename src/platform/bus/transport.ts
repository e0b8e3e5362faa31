import type { EventEnvelope } from './envelope.ts';

export interface Delivery {
  envelope: EventEnvelope;
  subscribers: readonly string[];
}

/** Runs one delivery attempt at a subscriber; throws to ask for a retry (see inbox-consumer.ts). */
export interface ConsumeFn {
  (envelope: EventEnvelope, attempt: number, maxAttempts: number): Promise<void>;
  /**
   * Dead-letters an event without running its handler: for a transport that has seen the
   * subscriber's process die on this event too often to try once more.
   */
  giveUp(envelope: EventEnvelope, reason: string, attempts: number): Promise<void>;
  /**
   * Several envelopes delivered together (one broker job): one outcome each, in order, as if each
   * had been consumed on its own; the consumer may handle them in one unit of work.
   */
  together(envelopes: readonly EventEnvelope[], attempt: number, maxAttempts: number): Promise<PromiseSettledResult<void>[]>;
}

/**
 * The bus is an interface; a broker is one adapter. `deliver` resolves only once the
 * deliveries are safe — handled (in-process) or durably queued (BullMQ) — because the relay
 * marks outbox rows dispatched right after.
 */
export interface Transport {
  readonly kind: 'inprocess' | 'bullmq';
  deliver(batch: readonly Delivery[]): Promise<void>;
  /** Starts taking deliveries for a module hosted in this process. */
  consume(module: string, consume: ConsumeFn): void;
  /** Puts one envelope back in front of one subscriber (dead-letter replay). */
  redeliver(module: string, envelope: EventEnvelope): Promise<void>;
  ready(): Promise<void>;
  close(): Promise<void>;
}
