import { newId, randomHex } from '../data/ids.ts';
import type { StoredEnvelope } from '../data/platform-tables.ts';
import { currentContext } from '../context/request-context.ts';
import type { EventDefinition } from './define-event.ts';
export { eventKey } from './define-event.ts';

export type EventEnvelope = StoredEnvelope;

// Span and trace ids come from a pooled buffer (randomHex): one randomBytes call per id cost a
// few percent of the bus's throughput. Event ids are time-ordered, for the outbox's and inboxes'
// indexes (see ids.ts).

/** A W3C traceparent for a new span under the current trace, or a new trace. */
export function childTraceparent(parent?: string): string {
  const traceId = parent?.split('-')[1] ?? randomHex(16);
  return `00-${traceId}-${randomHex(8)}-01`;
}

export function envelopeFor(source: string, event: EventDefinition, payload: unknown, causationId?: string): EventEnvelope {
  const ctx = currentContext();
  const id = newId();
  return {
    id,
    type: event.type,
    version: event.version,
    source,
    occurredAt: new Date().toISOString(),
    correlationId: ctx?.correlationId ?? id,
    causationId: causationId ?? ctx?.causationId,
    traceparent: childTraceparent(ctx?.traceparent),
    payload,
  };
}
