// Events are versioned contracts with schemas. The same event name may exist in several
// versions side by side; a consumer subscribes to the exact version it understands.
import type { z } from 'zod';

export interface EventDefinition<S extends z.ZodType = z.ZodType> {
  readonly type: string;
  readonly version: number;
  readonly schema: S;
  /** `OrderPlaced.v1`: what queues, inboxes and the catalog key on. */
  readonly key: string;
  readonly description?: string;
}

export type EventPayload<E extends EventDefinition> = z.output<E['schema']>;

export function defineEvent<S extends z.ZodType>(type: string, version: number, schema: S, description?: string): EventDefinition<S> {
  return { type, version, schema, key: eventKey({ type, version }), description };
}

/** `OrderPlaced.v1`: the one spelling of an event's identity, for definitions and envelopes alike. */
export function eventKey(e: { type: string; version: number }): string {
  return `${e.type}.v${e.version}`;
}
