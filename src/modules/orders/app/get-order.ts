import { requireCaller } from '../../../platform/auth/caller.ts';
import { NotFound } from '../../../platform/errors/domain-error.ts';
import type { OrdersDeps } from './orders-deps.ts';
import type { OrderRecord } from '../db/schema.ts';

/**
 * Reads the write model, so a customer sees their order at once. Someone else's is a 404.
 * With `waitMs`, a PENDING order is answered once it is CONFIRMED or CANCELLED, or when the wait
 * runs out (then still PENDING): a client follows its order with one request instead of many.
 */
export async function getOrder(deps: OrdersDeps, id: string, waitMs = 0): Promise<OrderRecord> {
  const caller = requireCaller();
  const deadline = Date.now() + waitMs;
  /** The row the commit that settled the order wrote, when this process's saga handed it over. */
  let settled: OrderRecord | undefined;
  // A held request for an order this process placed and is driving starts from the placed row
  // (PENDING: it waits), with no read; once woken, or on a recheck, it reads.
  let first = waitMs > 0 ? deps.watchers.placed(id) : undefined;
  for (;;) {
    const watch = waitMs > 0 && !settled ? deps.watchers.watch(id) : undefined;
    try {
      const order = settled ?? first ?? (await deps.statements.orderById(id))[0];
      first = undefined;
      if (!order || (order.customerId !== caller.sub && !caller.scopes.includes('admin'))) throw new NotFound(`No order ${id}`);
      const left = deadline - Date.now();
      if (!watch || order.status !== 'PENDING' || left <= 0 || deps.watchers.closed) return order;
      let timer: NodeJS.Timeout | undefined;
      const woke = await Promise.race([watch.changed, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), Math.min(left, deps.watchers.recheckMs))))]);
      clearTimeout(timer);
      // A settled order never changes again: its committed row is the answer, with no read.
      if (woke?.id === id && woke.status !== 'PENDING') settled = woke;
    } finally {
      watch?.stop();
    }
  }
}

export type { OrderRecord };
