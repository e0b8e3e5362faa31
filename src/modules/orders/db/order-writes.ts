// The statements every order runs through, built once (prepared-write.ts, prepared-read.ts):
// placement's two inserts, the saga's save after each step and its end, the order's settle, the
// history projection's upsert and the order read its long-poll repeats. Built per call by drizzle
// they were most of the orders module's own time under load.
import { and, eq, sql } from 'drizzle-orm';
import type { ModuleStore } from '../../../platform/data/module-store.ts';
import { bound, placeholdersFor, preparedWrite } from '../../../platform/data/prepared-write.ts';
import { preparedRead } from '../../../platform/data/prepared-read.ts';
import type { OrderRecord, OrdersTables, SagaRow } from './schema.ts';
import type { SagaStep } from '../domain/saga.ts';
import { fixedLimit } from '../../../platform/data/planned-once.ts';

// `set()` is typed for values; `bound` is one at run time.
const v = <T>(column: unknown, name: string) => bound(column, name) as unknown as T;
const excluded = (column: string) => sql.raw(`excluded.${column}`);

export function orderStatements(store: ModuleStore<OrdersTables>) {
  const { orders, sagas, history } = store.tables;
  const sagaFields = {
    plan: v<SagaStep[]>(sagas.plan, 'plan'),
    attempts: v<number>(sagas.attempts, 'attempts'),
    lastError: v<string | null>(sagas.lastError, 'lastError'),
    nextAttemptAt: v<Date>(sagas.nextAttemptAt, 'nextAttemptAt'),
    leaseUntil: v<Date | null>(sagas.leaseUntil, 'leaseUntil'),
    updatedAt: v<Date>(sagas.updatedAt, 'updatedAt'),
  };
  let byId: ((values: { id: string }) => Promise<OrderRecord[]>) | undefined;
  const heldBy = and(eq(sagas.orderId, bound(sagas.orderId, 'orderId')), eq(sagas.leaseOwner, bound(sagas.leaseOwner, 'owner')));
  return {
    /** Values: an OrderRecord. */
    insertOrder: preparedWrite(store, 'insert_order', (db) =>
      db.insert(orders).values(placeholdersFor(orders) as never),
    ),
    insertSaga: preparedWrite(store, 'insert_saga', (db) => db.insert(sagas).values(placeholdersFor(sagas) as never)),
    /**
     * The saga after a step, while `owner` holds its lease, held for the COMMIT (saga-runner.ts's
     * save): a lease that is gone changes no row and fails the unit there.
     */
    saveSaga: preparedWrite<SagaRow>(store, 'save_saga', (db) => db.update(sagas).set(sagaFields).where(heldBy).returning(), { expectRows: 1 }),
    saveSagaWithReason: preparedWrite<SagaRow>(
      store,
      'save_saga_reason',
      (db) => db.update(sagas).set({ ...sagaFields, reason: v<string | null>(sagas.reason, 'reason') }).where(heldBy).returning(),
      { expectRows: 1 },
    ),
    /**
     * Ends the saga while `owner` holds its lease, held for the COMMIT (saga-runner.ts's settle): a
     * lease that is gone changes no row and fails the unit there.
     */
    endHeldSaga: preparedWrite<{ orderId: string }>(
      store,
      'end_held_saga',
      (db) =>
        db
          .update(sagas)
          .set({ plan: [], done: true, reason: v<string | null>(sagas.reason, 'reason'), leaseUntil: null, updatedAt: v<Date>(sagas.updatedAt, 'updatedAt') })
          .where(and(heldBy, eq(sagas.done, false)))
          .returning({ orderId: sagas.orderId }),
      { expectRows: 1 },
    ),
    /** PENDING to `status`, held for the COMMIT; answers the order as it then stands. One no longer PENDING fails the unit there. */
    settlePendingOrder: preparedWrite<OrderRecord>(
      store,
      'settle_pending_order',
      (db) =>
        db
          .update(orders)
          .set({ status: v<'CONFIRMED'>(orders.status, 'status'), reason: v<string | null>(orders.reason, 'reason'), updatedAt: v<Date>(orders.updatedAt, 'updatedAt') })
          .where(and(eq(orders.id, bound(orders.id, 'id')), eq(orders.status, 'PENDING')))
          .returning(),
      { expectRows: 1 },
    ),
    /** The history projection's merge (history-projector.ts says how it merges). */
    projectHistory: preparedWrite(store, 'project_history', (db) =>
      db
        .insert(history)
        .values(placeholdersFor(history) as never)
        .onConflictDoUpdate({
          target: history.orderId,
          set: {
            // A final status (CONFIRMED, CANCELLED) is never moved back to PENDING.
            status: sql`case when ${history.status} = 'PENDING' then ${excluded('status')} else ${history.status} end`,
            reason: sql`coalesce(${excluded('reason')}, ${history.reason})`,
            itemCount: sql`coalesce(${excluded('item_count')}, ${history.itemCount})`,
            placedAt: sql`coalesce(${history.placedAt}, ${excluded('placed_at')})`,
            updatedAt: sql`case when ${excluded('updated_at')} > ${history.updatedAt} then ${excluded('updated_at')} else ${history.updatedAt} end`,
          },
        }),
    ),
    /** On the read handle. Prepared on first use: the store opens before its migrations run. */
    orderById: (id: string) => (byId ??= preparedRead<OrderRecord>(store, 'orders_order_by_id', (db) => db.select().from(orders).where(eq(orders.id, bound(orders.id, 'id'))).limit(fixedLimit(1))))({ id }),
  };
}

export type OrderStatements = ReturnType<typeof orderStatements>;
