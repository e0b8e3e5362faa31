import { eq } from 'drizzle-orm';
import { requireCaller } from '../../../platform/auth/caller.ts';
import { NotFound } from '../../../platform/errors/domain-error.ts';
import type { OrdersDeps } from './orders-deps.ts';

/** Reads the write model, so a customer sees their order at once. Someone else's is a 404. */
export async function getOrder(deps: OrdersDeps, id: string) {
  const caller = requireCaller();
  const [order] = await deps.store.db.select().from(deps.store.tables.orders).where(eq(deps.store.tables.orders.id, id)).limit(1);
  if (!order || (order.customerId !== caller.sub && !caller.scopes.includes('admin'))) throw new NotFound(`No order ${id}`);
  return order;
}

export type OrderRecord = Awaited<ReturnType<typeof getOrder>>;
