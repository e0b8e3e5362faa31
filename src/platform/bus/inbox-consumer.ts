// The subscriber side of delivery. An event is handled inside the subscriber's own
// unit of work, which first records the event id in the subscriber's inbox: a redelivered event
// finds its id there and is skipped, so handlers take effect exactly once. A poison event (unknown
// type, invalid payload) or one that keeps failing goes to the dead-letter table instead of
// blocking what comes after it.
import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import type { ModuleStore } from '../data/module-store.ts';
import { failedBeforeIt } from '../data/not-run.ts';
import { deleteInBatches, type BatchedDelete } from '../data/delete-in-batches.ts';
import type { RunUnitOfWork, UnitOfWork } from './unit-of-work.ts';
import type { Subscription } from '../modules/define-module.ts';
import type { Logger } from '../logging/logger.ts';
import { context, trace, SpanKind, SpanStatusCode, type Link, type Span } from '@opentelemetry/api';
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

  /** What handling an envelope needs, or why it cannot be handled (it goes to the dead letters). */
  function prepare(envelope: EventEnvelope): Ready | { key: string; refusal: string } {
    const key = keyOf(envelope);
    const subscription = byKey.get(key);
    if (!subscription || typeof envelope.id !== 'string') return { key, refusal: `${o.module} has no handler for event type ${key}` };
    const parsed = subscription.event.schema.safeParse(envelope.payload);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ');
      return { key, refusal: `invalid ${key} payload: ${issues}` };
    }
    return { key, envelope, subscription, payload: parsed.data };
  }

  /** Claims each event in the inbox, in one statement: true for those not handled before. */
  const claim = (uow: UnitOfWork, ready: readonly Ready[]) => o.store.platform.claimInbox(uow.db, ready.map((r) => ({ eventId: r.envelope.id, handler: r.key })), new Date());

  /** Runs `fn` under the event's ids and its handling span. */
  function asEvent<T>(r: Ready, span: Span, fn: () => Promise<T>): Promise<T> {
    const ids = { requestId: r.envelope.id, correlationId: r.envelope.correlationId, causationId: r.envelope.id };
    return context.with(trace.setSpan(contextFromTraceparent(r.envelope.traceparent), span), () => runWithContext(ids, fn));
  }

  const handle = async (uow: UnitOfWork, r: Ready) => {
    await r.subscription.handle(r.payload, uow, r.envelope);
    return 'handled' as const;
  };

  function settled(r: Ready, span: Span, outcome: 'duplicate' | 'handled') {
    span.setAttribute('messaging.outcome', outcome);
    span.end();
    o.metrics.handled.inc({ subscriber: o.module, event: r.key, outcome });
    if (outcome === 'handled') o.metrics.lag.observe({ subscriber: o.module, event: r.key }, (Date.now() - Date.parse(r.envelope.occurredAt)) / 1000);
  }

  function failed(r: Ready, span: Span, err: Error) {
    span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    span.end();
    o.metrics.failures.inc({ subscriber: o.module, event: r.key });
  }

  /** An attempt that failed: dead-lettered if it was the last, else thrown for the transport to retry. */
  function afterFailure(r: Ready, span: Span, err: Error, attempt: number, maxAttempts: number): Promise<void> {
    failed(r, span, err);
    if (attempt >= maxAttempts) return deadLetter(r.envelope, `handler failed ${attempt} time(s): ${err.message}`, attempt, r.key);
    o.logger.warn({ err, eventId: r.envelope.id, event: r.key, attempt }, 'event handler failed; will retry');
    return Promise.reject(err);
  }

  const consume = async (envelope: EventEnvelope, attempt: number, maxAttempts: number): Promise<void> => {
    const r = prepare(envelope);
    if ('refusal' in r) return deadLetter(envelope, r.refusal, attempt, r.key);
    const span = handlingSpan(o.module, r, attempt);
    try {
      settled(r, span, await o.unitOfWork((uow) => asEvent(r, span, async () => ((await claim(uow, [r]))[0] ? handle(uow, r) : 'duplicate'))));
    } catch (err) {
      return afterFailure(r, span, err as Error, attempt, maxAttempts);
    }
  };

  /**
   * Several events of one delivery (a broker job) in one unit of work, their inbox claims in one
   * statement, each event with its own span: one BEGIN/COMMIT and one claim for all of them
   * instead of one each (on Postgres, a round trip for the claims and one for the handlers' held
   * writes with the COMMIT, where each event took a round trip and each unit a WAL flush). If a
   * handler fails, the whole unit rolls back: that event's attempt has failed (retried or
   * dead-lettered as `consume` would), and every other event is handled again alone, so one
   * failing event neither takes the others down nor loses them, and its handler runs once per
   * attempt, as it would alone. A failure outside any handler (the claims, the COMMIT) has every
   * event handled alone.
   */
  const together = async (envelopes: readonly EventEnvelope[], attempt: number, maxAttempts: number): Promise<PromiseSettledResult<void>[]> => {
    const prepared = envelopes.map(prepare);
    const ready = prepared.filter((r): r is Ready => !('refusal' in r));
    if (ready.length > 1) {
      const spans = ready.map((r) => handlingSpan(o.module, r, attempt));
      let failing = -1;
      try {
        const outcomes = await o.unitOfWork(async (uow) => {
          const fresh = await claim(uow, ready);
          const done: ('duplicate' | 'handled')[] = [];
          for (const [i, r] of ready.entries()) {
            failing = i;
            done.push(fresh[i] ? await asEvent(r, spans[i]!, () => handle(uow, r)) : 'duplicate');
          }
          failing = -1;
          return done;
        });
        ready.forEach((r, i) => settled(r, spans[i]!, outcomes[i]!));
        return Promise.allSettled(prepared.map((r, i) => ('refusal' in r ? deadLetter(envelopes[i]!, r.refusal, attempt, r.key) : Promise.resolve())));
      } catch (err) {
        // A write held for the round trip of the next event's first statement fails there (on
        // Postgres): that event is not the culprit, so every event is handled alone.
        const culprit = failedBeforeIt(err) ? undefined : ready[failing];
        ready.forEach((r, i) => {
          if (r === culprit) return;
          spans[i]!.setAttribute('messaging.outcome', 'rolled_back');
          spans[i]!.end();
        });
        o.logger.debug({ err, events: ready.length }, 'events handled together failed; handling the others alone');
        return Promise.allSettled(
          envelopes.map((e) => (e === culprit?.envelope ? afterFailure(culprit, spans[failing]!, err as Error, attempt, maxAttempts) : consume(e, attempt, maxAttempts))),
        );
      }
    }
    return Promise.allSettled(envelopes.map((e) => consume(e, attempt, maxAttempts)));
  };

  return Object.assign(consume, {
    together,
    giveUp: (envelope: EventEnvelope, reason: string, attempts: number) => deadLetter(envelope, reason, attempts, keyOf(envelope)),
  });
}

interface Ready {
  key: string;
  envelope: EventEnvelope & { id: string };
  subscription: Subscription;
  payload: unknown;
}

/**
 * The subscriber's handling of one delivery. Its parent is the span that published the event
 * (the envelope's traceparent, written by the relay), not a link: each delivery is handled on its
 * own, and an order's whole story (request, saga steps, every module's reaction) then reads as one
 * trace. The transport's own span, when it has one active (a broker's consumer span), is linked.
 */
function handlingSpan(module: string, r: Ready, attempt: number): Span {
  const { key, envelope } = r;
  const producer = contextFromTraceparent(envelope.traceparent);
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

/** Forgets inbox rows handled before `before`, past any redelivery window, a bounded batch a statement. Resolves to how many went. */
export function pruneInbox(store: ModuleStore, before: Date, options?: BatchedDelete): Promise<number> {
  const i = store.tables.inbox;
  return deleteInBatches(store, i, [i.eventId, i.handler], lt(i.handledAt, before), options);
}
