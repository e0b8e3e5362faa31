import { asc, desc, eq, inArray } from 'drizzle-orm';
import { requireCaller } from '../../../platform/auth/caller.ts';
import type { ModuleStore } from '../../../platform/data/module-store.ts';
import type { OrdersTables } from '../db/schema.ts';
import { projectOrderEvent, projectedEvents } from './history-projector.ts';
import type { OrdersDeps } from './orders-deps.ts';

/** The customer's orders, from the read model — never from the write model. */
export async function listMyOrders(deps: OrdersDeps, limit: number) {
  const caller = requireCaller();
  const h = deps.store.tables.history;
  const rows = await deps.store.db.select().from(h).where(eq(h.customerId, caller.sub)).orderBy(desc(h.placedAt), desc(h.orderId)).limit(limit);
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
 * published (its outbox keeps them), in publication order, through the same projector.
 */
export async function rebuildHistory(store: ModuleStore<OrdersTables>): Promise<number> {
  const { history, outbox } = store.tables;
  return store.transaction(async (tx) => {
    await tx.delete(history);
    const events = await tx
      .select({ envelope: outbox.envelope })
      .from(outbox)
      .where(inArray(outbox.type, projectedEvents.map((t) => `${t}.v1`)))
      .orderBy(asc(outbox.seq));
    for (const { envelope } of events) await projectOrderEvent(tx, store.tables, envelope);
    return events.length;
  });
}
