import { randomUUID, randomBytes } from 'node:crypto';
import type { StoredEnvelope } from '../data/platform-tables.ts';
import { currentContext } from '../context/request-context.ts';
import type { EventDefinition } from './define-event.ts';

export type EventEnvelope = StoredEnvelope;

/** A W3C traceparent for a new span under the current trace, or a new trace (Q24). */
export function childTraceparent(parent?: string): string {
  const traceId = parent?.split('-')[1] ?? randomBytes(16).toString('hex');
  return `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
}

export function envelopeFor(source: string, event: EventDefinition, payload: unknown, causationId?: string): EventEnvelope {
  const ctx = currentContext();
  const id = randomUUID();
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

export function eventKey(e: { type: string; version: number }): string {
  return `${e.type}.v${e.version}`;
}
