// The orchestrator's engine. Sagas live in the orders store. A saga is driven the moment the unit
// of work that made it due commits (placement hands it over with `driveNow`); a poll looks for due
// ones as the safety net (retries that came due, a crashed instance's, a hand-over that was lost).
// Either way the runner takes a lease on the saga (so two instances never drive the same saga at
// once, and a crashed instance's sagas are picked up when its lease runs out), and drives it
// through its plan, persisting after every step. Restarting mid-saga resumes from the persisted
// step; steps are idempotent, so repeating the one that was in flight is safe.
import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { runWithContext } from '../../../platform/context/request-context.ts';
import { inSpan, outsideAnyTrace, underTraceparent } from '../../../platform/observability/trace-context.ts';
import { backoffDelay } from '../../../platform/bus/backoff.ts';
import { CancelReason as CancelReasons, OrderCancelled, OrderConfirmed } from '../events.ts';
import { compensationsFor, happyPath, type SagaStep } from '../domain/saga.ts';
import type { CancelReason } from '../domain/order.ts';
import { runStep } from './saga-steps.ts';
import type { OrdersDeps, SagaHandOver } from './orders-deps.ts';
import type { OrderRecord, SagaRow } from '../db/schema.ts';
import { fixedLimit } from '../../../platform/data/planned-once.ts';
import { rowsNotAsExpected } from '../../../platform/data/prepared-write.ts';

const giveUpReason: Partial<Record<SagaStep, CancelReason>> = {
  reserve: 'inventory_unavailable',
  charge: 'payment_unavailable',
  commit: 'inventory_unavailable',
};

export interface SagaRunner extends SagaHandOver {
  /** Looks for due sagas soon (after the current poll if one runs). */
  kick(): void;
  /**
   * One look for due sagas now: claims them and starts driving them. The safety net behind the
   * kicks (a saga whose retry came due, one a crashed instance left), run as the module's
   * `saga-poll` job every SAGA_POLL_MS.
   */
  poll(): Promise<void>;
  /** Settles once every saga being driven has stopped for now (finished, or waiting for a retry). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Thrown when another runner took this saga over (our lease ran out): stop driving it. */
class LostLease extends Error {}

const PARK_MS = 60 * 60 * 1000;

/**
 * Runs the runner's own work under its own context and no trace (drive() takes up each saga's own),
 * never under those of the request or job that woke it.
 */
const asRunner = <T>(fn: () => T): T => outsideAnyTrace(() => runWithContext({ requestId: 'saga-runner', correlationId: 'saga-runner' }, fn));

/**
 * A plan that ends in `cancel` carries the reason that started its compensations; a row without
 * one (edited by hand) still ends with a reason from the list rather than a word nobody knows.
 */
const cancelReasonOf = (saga: { reason: string | null }): CancelReason => (CancelReasons.options as readonly string[]).includes(saga.reason ?? '') ? (saga.reason as CancelReason) : 'rejected';

export interface SagaRunnerOptions {
  maxConcurrent?: number;
  /** false: `driveNow` only kicks the poll (the poll alone drives sagas; a diagnostic switch). */
  driveOnCommit?: boolean;
}

export function sagaRunner(deps: OrdersDeps, options: SagaRunnerOptions = {}): SagaRunner {
  const maxConcurrent = options.maxConcurrent ?? 32;
  const driveOnCommit = options.driveOnCommit ?? true;
  const { sagas, orders } = deps.store.tables;
  const me = randomUUID();
  const inFlight = new Map<string, Promise<void>>();
  let scheduled = false;
  // One poll at a time: overlapping polls read the same due sagas and race to claim them, and the
  // losers wait on each other's row locks (under load, ~30 failed claims per saga on Postgres).
  let polling = false;
  let pollAgain = false;
  let stopped = false;
  // A saga was left for later because the runner was full: look again as soon as one finishes.
  let deferred = false;
  /** Slots taken by `leaseForNew`, waiting for their unit of work to commit (or not). */
  const awaitingCommit = new Map<string, (run?: () => Promise<void>) => void>();

  /** Takes the lease; answers the saga row as it now stands (no read before driving it), or undefined. */
  async function claim(orderId: string): Promise<SagaRow | undefined> {
    const now = deps.clock.now();
    return deps.store.writeStatement(async (tx) => {
      const rows = await tx
        .update(sagas)
        .set({ leaseUntil: new Date(now.getTime() + deps.saga.leaseMs), leaseOwner: me })
        .where(and(eq(sagas.orderId, orderId), eq(sagas.done, false), or(isNull(sagas.leaseUntil), lt(sagas.leaseUntil, now))))
        .returning();
      return rows[0];
    });
  }

  async function save(orderId: string, plan: SagaStep[], fields: { reason?: CancelReason | null; attempts?: number; lastError?: string | null; retryAt?: Date }) {
    const now = deps.clock.now();
    const values = {
      orderId,
      owner: me,
      plan,
      attempts: fields.attempts ?? 0,
      lastError: fields.lastError ?? null,
      nextAttemptAt: fields.retryAt ?? now,
      // A retry gives the lease up; moving on renews it.
      leaseUntil: fields.retryAt ? null : new Date(now.getTime() + deps.saga.leaseMs),
      updatedAt: now,
    };
    // A unit of one held write: on Postgres it commits in one round trip, and with any other units
    // of the store ending in the same turn (a commit group, decision 29), sharing their WAL flush.
    let written: { rows: Promise<SagaRow[]> };
    try {
      written = await deps.unitOfWork(async (uow) => (fields.reason !== undefined ? deps.statements.saveSagaWithReason.laterWithRows(uow.db, { ...values, reason: fields.reason }) : deps.statements.saveSaga.laterWithRows(uow.db, values)));
    } catch (err) {
      if (rowsNotAsExpected(err, 'orders_save_saga') || rowsNotAsExpected(err, 'orders_save_saga_reason')) throw new LostLease();
      throw err;
    }
    // Committed, so the database found exactly the one row (expectRows).
    return (await written.rows)[0]!;
  }

  function finish(order: OrderRecord, outcome: 'CONFIRMED' | 'CANCELLED', reason: CancelReason | null) {
    const step = outcome === 'CONFIRMED' ? 'confirm' : 'cancel';
    return inSpan(`saga step ${step}`, { 'saga.name': 'order', 'saga.order_id': order.id, 'saga.step': step, ...(reason ? { 'saga.reason': reason } : {}) }, () => settle(order, outcome, reason));
  }

  async function settle(order: OrderRecord, outcome: 'CONFIRMED' | 'CANCELLED', reason: CancelReason | null) {
    const orderId = order.id;
    const now = deps.clock.now();
    let settled: OrderRecord | undefined;
    try {
      try {
        settled = await settleAtOnce(order, outcome, reason, now);
      } catch (err) {
        if (!rowsNotAsExpected(err, 'orders_settle_pending_order')) throw err;
        // Settled by hand meanwhile (no longer PENDING): the saga ends, and no event tells of a
        // settle that did not happen.
        await deps.unitOfWork((uow) => deps.statements.endHeldSaga.later(uow.db, { orderId, owner: me, reason, updatedAt: now }));
      }
    } catch (err) {
      if (rowsNotAsExpected(err, 'orders_end_held_saga')) throw new LostLease();
      throw err;
    }
    // Committed: a request waiting on the order answers this row without reading it again.
    deps.watchers.changed(orderId, settled);
    deps.metrics.finished.inc({ outcome, reason: reason ?? '' });
    deps.logger.info({ orderId, outcome, reason }, 'order saga finished');
  }

  /**
   * The saga's end, the order's settle and its event, sent whole with the COMMIT (one round trip on
   * Postgres). The event is made from the order as placed: its customer and amounts never change.
   * A saga no longer ours (a lost lease) or an order no longer PENDING changes no row, which fails
   * the unit before its COMMIT.
   */
  async function settleAtOnce(order: OrderRecord, outcome: 'CONFIRMED' | 'CANCELLED', reason: CancelReason | null, now: Date): Promise<OrderRecord | undefined> {
    const orderId = order.id;
    const written = await deps.unitOfWork(async (uow) => {
      await deps.statements.endHeldSaga.later(uow.db, { orderId, owner: me, reason, updatedAt: now });
      const settled = deps.statements.settlePendingOrder.laterWithRows(uow.db, { id: orderId, status: outcome, reason, updatedAt: now });
      const base = { orderId, customerId: order.customerId, totalMinor: order.totalMinor, currency: order.currency };
      if (outcome === 'CONFIRMED') await uow.publish(OrderConfirmed, { ...base, confirmedAt: now.toISOString() });
      else await uow.publish(OrderCancelled, { ...base, reason: reason ?? 'rejected', cancelledAt: now.toISOString() });
      return settled;
    });
    return (await written.rows)[0];
  }

  /**
   * Runs a saga under the ids and the trace of the request that placed it (the row keeps its
   * traceparent, so a saga resumed after a crash, by any instance, continues that trace), never
   * under whoever woke the runner.
   */
  async function drive(saga: SagaRow, order: OrderRecord | undefined): Promise<void> {
    const orderId = saga.orderId;
    const context = { requestId: `saga:${orderId}`, correlationId: saga.correlationId ?? orderId };
    try {
      await underTraceparent(saga.traceparent, () => runWithContext(context, () => steps(orderId, saga, order)));
    } catch (err) {
      if (!(err instanceof LostLease)) throw err;
      deps.metrics.leasesLost.inc();
      deps.logger.warn({ orderId }, 'order saga lease lost to another runner; leaving it to them');
    }
  }

  /**
   * Starts from the saga row the claim returned and reads the order once (unless placement handed
   * it over), then carries the saga row that each save returns: while we hold the lease nobody
   * else writes either row (a save that finds the lease gone throws LostLease), and the order's
   * lines and amounts never change after placement.
   */
  async function steps(orderId: string, first: SagaRow, placed: OrderRecord | undefined): Promise<void> {
    let saga = first;
    const order = placed ?? (await deps.store.db.select().from(orders).where(eq(orders.id, orderId)).limit(fixedLimit(1)))[0];
    for (;;) {
      if (stopped) return;
      if (saga.done || !order) return;
      const [step, ...rest] = saga.plan;
      if (!step) return finish(order, 'CANCELLED', cancelReasonOf(saga));
      if (step === 'confirm') return finish(order, 'CONFIRMED', null);
      if (step === 'cancel') return finish(order, 'CANCELLED', cancelReasonOf(saga));

      const outcome = await inSpan(`saga step ${step}`, { 'saga.name': 'order', 'saga.order_id': orderId, 'saga.step': step, 'saga.attempt': saga.attempts + 1 }, async (span) => {
        const result = await runStep(deps, step, order);
        span.setAttribute('saga.outcome', result.kind);
        if (result.kind === 'failed') span.setAttribute('saga.reason', result.reason);
        if (result.kind === 'retry') span.setAttribute('saga.error', result.error);
        return result;
      });
      if (outcome.kind === 'done') {
        // The step before the end: settling is itself the save (one unit of work, lease checked),
        // and a crash before it repeats this idempotent step.
        if (rest[0] === 'confirm') return finish(order, 'CONFIRMED', null);
        if (rest[0] === 'cancel') return finish(order, 'CANCELLED', cancelReasonOf(saga));
        saga = await save(orderId, rest, {});
      } else if (outcome.kind === 'failed') {
        deps.logger.info({ orderId, step, reason: outcome.reason }, 'order saga compensating');
        saga = await save(orderId, compensationsFor(step, outcome.reason), { reason: outcome.reason });
      } else {
        // Waiting on payment has its own, short deadline: a customer learns within seconds that the
        // payment could not be taken, rather than after the saga's long one.
        const deadline = saga.startedAt.getTime() + (step === 'charge' ? deps.saga.paymentDeadlineMs : deps.saga.deadlineMs);
        const overdue = deps.clock.now().getTime() > deadline;
        const reason = giveUpReason[step];
        if (overdue && reason && happyPath.includes(step)) {
          deps.logger.warn({ orderId, step, error: outcome.error }, 'order saga gave up waiting; compensating');
          saga = await save(orderId, compensationsFor(step, reason), { reason });
          continue;
        }
        const attempts = saga.attempts + 1;
        if (outcome.permanent) {
          // Retrying cannot help; park it where an operator will see it (logs, metrics, last_error).
          deps.metrics.parked.inc({ step });
          deps.logger.error({ orderId, step, error: outcome.error }, 'order saga parked: a compensation was refused; needs an operator');
        } else {
          deps.metrics.retries.inc({ step });
          deps.logger.warn({ orderId, step, attempts, error: outcome.error }, 'order saga step will be retried');
        }
        const delay = outcome.permanent ? PARK_MS : backoffDelay(attempts, deps.saga.retryDelayMs, 10_000);
        // The last retry of a forward step comes at its deadline, not a backoff later: the give-up is on time.
        const retryAt = Math.min(deps.clock.now().getTime() + delay, happyPath.includes(step) && !outcome.permanent ? Math.max(deadline, deps.clock.now().getTime()) : Number.POSITIVE_INFINITY);
        await save(orderId, saga.plan, { attempts, lastError: outcome.error, reason: saga.reason as CancelReason | null, retryAt: new Date(retryAt) });
        return;
      }
    }
  }

  async function tick(): Promise<void> {
    scheduled = false;
    if (polling) {
      // The poll job and a kick met: one poll at a time, and look again after this one.
      pollAgain = true;
      return;
    }
    if (stopped) return;
    if (inFlight.size >= maxConcurrent) {
      // Full: the next saga to finish looks again.
      deferred = true;
      return;
    }
    polling = true;
    try {
      await poll();
    } finally {
      polling = false;
      // Woken while polling: look again, something may have become due after our read.
      if (pollAgain) {
        pollAgain = false;
        kick();
      }
    }
  }

  async function poll(): Promise<void> {
    const now = deps.clock.now();
    const room = maxConcurrent - inFlight.size;
    // `done = false` in the text, not a bound parameter: SQLite would plan the poll anew on every
    // run (planned-once.ts); both engines read the keyword `false` as their own false.
    const due = await deps.store.db
      .select({ orderId: sagas.orderId })
      .from(sagas)
      .where(and(sql`${sagas.done} = false`, lte(sagas.nextAttemptAt, now), or(isNull(sagas.leaseUntil), lt(sagas.leaseUntil, now))))
      .orderBy(asc(sagas.nextAttemptAt))
      .limit(fixedLimit(room));
    // There may be more than there was room for: the next saga to finish looks again.
    if (due.length === room) deferred = true;
    // Claimed side by side, each starting as soon as it is ours: one after the other, the last of
    // a busy poll waited behind every claim before it (~300 ms at 32 due on Postgres). Each claim
    // is its own single-row UPDATE, so they cannot deadlock with another instance's.
    const claimed = await Promise.allSettled(due.map(({ orderId }) => start(orderId, undefined)));
    // Every claim has settled before the poll ends (so no two polls overlap); then report a failure.
    const failed = claimed.find((c) => c.status === 'rejected');
    if (failed) throw failed.reason;
  }

  function track(orderId: string, run: Promise<void>): void {
    inFlight.set(
      orderId,
      run
        .catch((err) => deps.logger.error({ err, orderId }, 'order saga crashed; it will resume when its lease ends'))
        .finally(() => {
          inFlight.delete(orderId);
          deps.watchers.released(orderId);
          if (deferred) {
            deferred = false;
            kick();
          }
        }),
    );
  }

  /**
   * Claims the saga and drives it if the claim is won. It is in flight from the first moment, so
   * neither the poll nor a hand-over here claims it a second time (a claim won twice by this same
   * runner would leave the second claimer holding a lease nobody drives). Settles once the claim
   * is decided; rejects if the claim itself failed.
   */
  function start(orderId: string, order: OrderRecord | undefined): Promise<void> {
    if (inFlight.has(orderId) || stopped) return Promise.resolve();
    // Placed here: held requests for it start from the placed row while it is in flight.
    if (order) deps.watchers.driving(order);
    let claimed!: (err?: unknown) => void;
    const decided = new Promise<void>((resolve, reject) => (claimed = (err) => (err === undefined ? resolve() : reject(err))));
    track(
      orderId,
      (async () => {
        let saga: SagaRow | undefined;
        try {
          saga = await claim(orderId);
        } catch (err) {
          claimed(err);
          return;
        }
        claimed();
        if (saga) await drive(saga, order);
      })(),
    );
    return decided;
  }

  function leaseForNew(orderId: string): { leaseOwner: string; leaseUntil: Date } | undefined {
    if (!driveOnCommit || stopped || inFlight.has(orderId)) return undefined;
    if (inFlight.size >= maxConcurrent) {
      deferred = true;
      return undefined;
    }
    track(orderId, new Promise<void>((resolve, reject) => awaitingCommit.set(orderId, (run) => (run ? run().then(resolve, reject) : resolve()))));
    return { leaseOwner: me, leaseUntil: new Date(deps.clock.now().getTime() + deps.saga.leaseMs) };
  }

  function abandon(orderId: string): void {
    awaitingCommit.get(orderId)?.();
    awaitingCommit.delete(orderId);
  }

  function driveNow(orderId: string, order: OrderRecord, saga: SagaRow): void {
    const leased = awaitingCommit.get(orderId);
    if (leased) {
      awaitingCommit.delete(orderId);
      deps.watchers.driving(order);
      // Ours since it was written: drive it, after the placing request's answer is written and
      // under the runner's context (drive() takes up the saga's own trace and ids).
      setImmediate(() => asRunner(() => leased(() => drive(saga, order))));
      return;
    }
    if (stopped) return;
    const full = inFlight.size >= maxConcurrent;
    if (full) deferred = true;
    if (!driveOnCommit || full) return kick();
    // After the placing request's answer is written, under the runner's own context. A claim that
    // fails is left to the poll.
    setImmediate(() => asRunner(() => start(orderId, order).catch((err) => deps.logger.warn({ err, orderId }, 'order saga hand-over failed; the poll will pick it up'))));
  }

  function kick(): void {
    if (scheduled || stopped) return;
    if (polling) {
      pollAgain = true;
      return;
    }
    scheduled = true;
    // The runner's own context and no trace, not those of the request that happened to wake it.
    setImmediate(() => asRunner(() => tick().catch((err) => deps.logger.warn({ err }, 'saga poll failed'))));
  }

  return {
    kick,
    driveNow,
    leaseForNew,
    abandon,
    async poll() {
      await asRunner(() => tick());
    },
    async idle() {
      while (inFlight.size || polling || scheduled) await Promise.allSettled([...inFlight.values(), new Promise((r) => setImmediate(r))]);
    },
    async stop() {
      stopped = true;
      const driving = [...inFlight.keys()];
      await Promise.allSettled([...inFlight.values()]);
      // A clean stop hands its sagas back at once instead of making the next instance wait out the
      // leases: only those it holds (a claim it lost, still in flight here, names another's saga).
      if (driving.length) {
        await deps.store.transaction(async (tx) => {
          await tx.update(sagas).set({ leaseUntil: null }).where(and(inArray(sagas.orderId, driving), eq(sagas.done, false), eq(sagas.leaseOwner, me)));
        });
      }
    },
  };
}
