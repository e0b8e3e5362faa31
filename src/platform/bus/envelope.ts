import { newId } from '../data/ids.ts';
import type { StoredEnvelope } from '../data/platform-tables.ts';
import { currentContext } from '../context/request-context.ts';
import { currentTraceparent } from '../observability/trace-context.ts';
import type { EventDefinition } from './define-event.ts';
export { eventKey } from './define-event.ts';

export type EventEnvelope = StoredEnvelope;

// Event ids are time-ordered, for the outbox's and inboxes' indexes (see ids.ts). The envelope's
// traceparent names the span that published the event (the request's, a saga step's, a
// handler's): the relay's publish span and the subscriber's handling span hang below it.

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
    traceparent: currentTraceparent(),
    payload,
  };
}
