// The subscriber side of delivery. An event is handled inside the subscriber's own
// unit of work, which first records the event id in the subscriber's inbox: a redelivered event
// finds its id there and is skipped, so handlers take effect exactly once. A poison event (unknown
// type, invalid payload) or one that keeps failing goes to the dead-letter table instead of
// blocking what comes after it.
import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import type { ModuleStore } from '../data/module-store.ts';
import type { RunUnitOfWork } from './unit-of-work.ts';
import type { Subscription } from '../modules/define-module.ts';
import type { Logger } from '../logging/logger.ts';
import { context, trace, SpanKind, SpanStatusCode, type Context, type Link } from '@opentelemetry/api';
import { runWithContext } from '../context/request-context.ts';
import { contextFromTraceparent, tracer } from '../observability/trace-context.ts';
import { eventKey, type EventEnvelope } from './envelope.ts';
import type { ConsumeFn } from './transport.ts';
import type { BusMetrics } from './bus-metrics.ts';

export interface ConsumerOptions {
  module: string;
  store: ModuleStore;
  unitOfWork: RunUnitOfWork;
  subscriptions: readonly Subscription[];
  logger: Logger;
  metrics: BusMetrics;
}

export function inboxConsumer(o: ConsumerOptions): ConsumeFn {
  const byKey = new Map(o.subscriptions.map((s) => [s.event.key, s]));
  const { deadLetters } = o.store.tables;

  async function deadLetter(envelope: EventEnvelope, reason: string, attempts: number, key: string) {
    await o.store.transaction(async (tx) => {
      await tx
        .insert(deadLetters)
        .values({ eventId: String(envelope?.id ?? 'unknown'), handler: key, envelope, reason, attempts, createdAt: new Date() })
        .onConflictDoUpdate({
          target: [deadLetters.eventId, deadLetters.handler],
          set: { reason, attempts, createdAt: new Date(), replayedAt: null },
        });
    });
    o.metrics.handled.inc({ subscriber: o.module, event: key, outcome: 'dead_lettered' });
    o.logger.error({ eventId: envelope?.id, event: key, attempts, reason }, 'event dead-lettered');
  }

  const keyOf = (envelope: EventEnvelope) => (envelope && typeof envelope.type === 'string' ? eventKey(envelope) : 'malformed');

  const consume = async (envelope: EventEnvelope, attempt: number, maxAttempts: number): Promise<void> => {
    const key = keyOf(envelope);
    const subscription = byKey.get(key);
    if (!subscription || typeof envelope.id !== 'string') {
      return deadLetter(envelope, `${o.module} has no handler for event type ${key}`, attempt, key);
    }
    const parsed = subscription.event.schema.safeParse(envelope.payload);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ');
      return deadLetter(envelope, `invalid ${key} payload: ${issues}`, attempt, key);
    }
    const ids = { requestId: envelope.id, correlationId: envelope.correlationId, causationId: envelope.id };
    const producer = contextFromTraceparent(envelope.traceparent);
    const span = handlingSpan(o.module, key, envelope, attempt, producer);
    try {
      const outcome = await context.with(trace.setSpan(producer, span), () =>
        runWithContext(ids, () =>
          o.unitOfWork(async (uow) => {
            if (!(await o.store.platform.claimInbox(uow.db, envelope.id, key, new Date()))) return 'duplicate' as const;
            await subscription.handle(parsed.data, uow, envelope);
            return 'handled' as const;
          }),
        ),
      );
      span.setAttribute('messaging.outcome', outcome);
      span.end();
      o.metrics.handled.inc({ subscriber: o.module, event: key, outcome });
      if (outcome === 'handled') o.metrics.lag.observe({ subscriber: o.module, event: key }, (Date.now() - Date.parse(envelope.occurredAt)) / 1000);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      span.end();
      o.metrics.failures.inc({ subscriber: o.module, event: key });
      if (attempt >= maxAttempts) {
        return deadLetter(envelope, `handler failed ${attempt} time(s): ${(err as Error).message}`, attempt, key);
      }
      o.logger.warn({ err, eventId: envelope.id, event: key, attempt }, 'event handler failed; will retry');
      throw err;
    }
  };
  return Object.assign(consume, {
    giveUp: (envelope: EventEnvelope, reason: string, attempts: number) => deadLetter(envelope, reason, attempts, keyOf(envelope)),
  });
}

/**
 * The subscriber's handling of one delivery. Its parent is the span that published the event
 * (the envelope's traceparent, written by the relay), not a link: each delivery is handled on its
 * own, and an order's whole story (request, saga steps, every module's reaction) then reads as one
 * trace. The transport's own span, when it has one active (a broker's consumer span), is linked.
 */
function handlingSpan(module: string, key: string, envelope: EventEnvelope, attempt: number, producer: Context) {
  const transport = trace.getSpanContext(context.active());
  const parent = trace.getSpanContext(producer);
  const links: Link[] = transport && trace.isSpanContextValid(transport) && transport.spanId !== parent?.spanId ? [{ context: transport }] : [];
  return tracer.startSpan(
    `process ${key}`,
    {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        'messaging.operation.type': 'process',
        'messaging.destination.name': envelope.type,
        'messaging.message.id': envelope.id,
        'messaging.consumer.group.name': module,
        'messaging.message.delivery_count': attempt,
        'event.source': envelope.source,
      },
    },
    producer,
  );
}

/** Dead letters not yet replayed, oldest first. */
export async function pendingDeadLetters(store: ModuleStore) {
  const d = store.tables.deadLetters;
  return store.db.select().from(d).where(isNull(d.replayedAt)).orderBy(d.seq);
}

/** Marks a dead letter replayed unless it failed again meanwhile (a fresh failure rewrites createdAt). */
export async function markReplayed(store: ModuleStore, seq: number, createdAt: Date): Promise<boolean> {
  const d = store.tables.deadLetters;
  return store.transaction(async (tx) => {
    const rows = await tx.update(d).set({ replayedAt: new Date() }).where(and(eq(d.seq, seq), isNull(d.replayedAt), eq(d.createdAt, createdAt))).returning({ seq: d.seq });
    return rows.length === 1;
  });
}

export async function outboxBacklog(store: ModuleStore): Promise<number> {
  const o = store.tables.outbox;
  const rows = await store.db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(o).where(isNull(o.dispatchedAt));
  return rows[0]?.n ?? 0;
}

export async function deadLetterCount(store: ModuleStore): Promise<number> {
  const d = store.tables.deadLetters;
  const rows = await store.db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(d).where(isNull(d.replayedAt));
  return rows[0]?.n ?? 0;
}

/** Forgets inbox rows handled before `before`: past any redelivery window. */
export async function pruneInbox(store: ModuleStore, before: Date): Promise<void> {
  const i = store.tables.inbox;
  await store.transaction(async (tx) => {
    await tx.delete(i).where(lt(i.handledAt, before));
  });
}
