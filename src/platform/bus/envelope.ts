import { randomUUID, randomFillSync } from 'node:crypto';
import type { StoredEnvelope } from '../data/platform-tables.ts';
import { currentContext } from '../context/request-context.ts';
import type { EventDefinition } from './define-event.ts';
export { eventKey } from './define-event.ts';

export type EventEnvelope = StoredEnvelope;

// Span and trace ids come from a pooled buffer refilled 4 KiB at a time (as node does for
// randomUUID): one randomBytes call per id cost a few percent of the bus's throughput.
const pool = Buffer.alloc(4096);
let used = pool.length;
function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += bytes;
  return pool.toString('hex', used - bytes, used);
}

/** A W3C traceparent for a new span under the current trace, or a new trace (Q24). */
export function childTraceparent(parent?: string): string {
  const traceId = parent?.split('-')[1] ?? randomHex(16);
  return `00-${traceId}-${randomHex(8)}-01`;
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
