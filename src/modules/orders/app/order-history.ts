import { and, asc, desc, gt, inArray, sql } from 'drizzle-orm';
import { requireCaller } from '../../../platform/auth/caller.ts';
import type { ModuleStore } from '../../../platform/data/module-store.ts';
import type { OrdersTables } from '../db/schema.ts';
import { historyEvents, projectOrderEvent } from './history-projector.ts';
import { orderStatements } from '../db/order-writes.ts';
import type { OrdersDeps } from './orders-deps.ts';
import { fixedLimit, textEquals } from '../../../platform/data/planned-once.ts';
import { deleteInBatches } from '../../../platform/data/delete-in-batches.ts';

/** The customer's orders, from the read model — never from the write model. */
export async function listMyOrders(deps: OrdersDeps, limit: number) {
  const caller = requireCaller();
  const h = deps.store.tables.history;
  const rows = await deps.store.db.select().from(h).where(textEquals(h.customerId, caller.sub)).orderBy(desc(h.placedAt), desc(h.orderId)).limit(fixedLimit(limit));
  return {
    items: rows.map((r) => ({
      orderId: r.orderId,
      status: r.status,
      reason: r.reason ?? undefined,
      itemCount: r.itemCount ?? undefined,
      totalMinor: r.totalMinor,
      currency: r.currency,
      placedAt: r.placedAt?.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    })),
  };
}

/**
 * Rebuilds the projection from scratch: empty it, then replay every order event the module has
 * published (its outbox keeps them), in publication order, through the same projector — both in
 * batches, so a running app's own writes are never held up for long. Events the live projector
 * applies meanwhile merge with the replay (the projector is an order-independent upsert).
 */
export async function rebuildHistory(store: ModuleStore<OrdersTables>, batchSize = 500): Promise<number> {
  const { history, outbox } = store.tables;
  const statements = orderStatements(store);
  await deleteInBatches(store, history, [history.orderId], sql`true`, { batch: batchSize });
  const types = historyEvents.map((e) => e.key);
  let after = 0;
  let replayed = 0;
  for (;;) {
    const batch = await store.db
      .select({ seq: outbox.seq, envelope: outbox.envelope })
      .from(outbox)
      .where(and(inArray(outbox.type, types), gt(outbox.seq, after)))
      .orderBy(asc(outbox.seq))
      .limit(fixedLimit(batchSize));
    if (batch.length === 0) return replayed;
    await store.transaction(async (tx) => {
      for (const { envelope } of batch) await projectOrderEvent(tx, statements, envelope);
    });
    after = batch[batch.length - 1]!.seq;
    replayed += batch.length;
  }
}
