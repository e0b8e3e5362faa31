// What a held GET …/orders/:id?waitSeconds=N reads: the order once (not even that while this
// process drives the saga of an order it placed), and then, woken by this process's saga with the
// row its commit wrote, nothing more; woken by anything else (an event from another instance, a
// recheck), the order again.
import { describe, expect, it } from 'vitest';
import { getOrder } from '../app/get-order.ts';
import { orderWatchers } from '../app/order-watchers.ts';
import type { OrdersDeps } from '../app/orders-deps.ts';
import type { OrderRecord } from '../db/schema.ts';
import { runWithContext } from '../../../platform/context/request-context.ts';
import { NotFound } from '../../../platform/errors/domain-error.ts';

const pending: OrderRecord = {
  id: 'o-1',
  customerId: 'c-1',
  status: 'PENDING',
  reason: null,
  lines: [],
  totalMinor: 100,
  currency: 'EUR',
  paymentMethod: 'tok_visa',
  createdAt: new Date(0),
  updatedAt: new Date(0),
};

/** Deps whose store answers `stored()` (read anew at each read) and counts the reads. */
function depsFor(stored: () => OrderRecord | undefined, recheckMs = 60_000) {
  const reads = { n: 0 };
  const watchers = orderWatchers(recheckMs);
  const deps = {
    statements: {
      async orderById(id: string) {
        reads.n++;
        const o = stored();
        return o && o.id === id ? [o] : [];
      },
    },
    watchers,
  } as unknown as OrdersDeps;
  return { deps, reads, watchers };
}

const asCustomer = <T>(sub: string, fn: () => Promise<T>) => runWithContext({ requestId: 'r', correlationId: 'r', caller: { sub, scopes: [] } }, fn);
/** Until the held request is waiting on its watch. */
const held = () => new Promise((r) => setTimeout(r, 20));

describe('a held order read', () => {
  it('answers the row the settling commit wrote, without reading the order again', async () => {
    const { deps, reads, watchers } = depsFor(() => pending);
    const answer = asCustomer('c-1', () => getOrder(deps, 'o-1', 10_000));
    await held();
    const confirmed = { ...pending, status: 'CONFIRMED' as const, updatedAt: new Date(1) };
    watchers.changed('o-1', confirmed);
    expect(await answer).toEqual(confirmed);
    expect(reads.n).toBe(1);
  });

  it('reads the order again when woken without a row (an event from another instance)', async () => {
    let stored = pending;
    const { deps, reads, watchers } = depsFor(() => stored);
    const answer = asCustomer('c-1', () => getOrder(deps, 'o-1', 10_000));
    await held();
    stored = { ...pending, status: 'CANCELLED', reason: 'out_of_stock' };
    watchers.changed('o-1');
    expect(await answer).toMatchObject({ status: 'CANCELLED', reason: 'out_of_stock' });
    expect(reads.n).toBe(2);
  });

  it('reads the order again when the row it is woken with is still PENDING, and keeps waiting', async () => {
    let stored = pending;
    const { deps, reads, watchers } = depsFor(() => stored);
    const answer = asCustomer('c-1', () => getOrder(deps, 'o-1', 10_000));
    await held();
    watchers.changed('o-1', pending);
    await held();
    expect(reads.n).toBe(2);
    stored = { ...pending, status: 'CONFIRMED' };
    watchers.changed('o-1');
    expect(await answer).toMatchObject({ status: 'CONFIRMED' });
    expect(reads.n).toBe(3);
  });

  it('is a 404 for someone else’s order, and holds nothing for it', async () => {
    const { deps, reads } = depsFor(() => pending);
    await expect(asCustomer('c-2', () => getOrder(deps, 'o-1', 10_000))).rejects.toBeInstanceOf(NotFound);
    expect(reads.n).toBe(1);
  });

  it('starts from the placed row while this process drives the order, and reads nothing when its saga settles it', async () => {
    const { deps, reads, watchers } = depsFor(() => pending);
    watchers.driving(pending);
    const answer = asCustomer('c-1', () => getOrder(deps, 'o-1', 10_000));
    await held();
    expect(reads.n).toBe(0);
    const confirmed = { ...pending, status: 'CONFIRMED' as const, updatedAt: new Date(1) };
    watchers.changed('o-1', confirmed);
    expect(await answer).toEqual(confirmed);
    expect(reads.n).toBe(0);
    // Settled: the placed row is no longer what it is.
    expect(watchers.placed('o-1')).toBeUndefined();
  });

  it('reads when woken without a row, though it started from the placed one', async () => {
    let stored = pending;
    const { deps, reads, watchers } = depsFor(() => stored);
    watchers.driving(pending);
    const answer = asCustomer('c-1', () => getOrder(deps, 'o-1', 10_000));
    await held();
    stored = { ...pending, status: 'CONFIRMED' };
    watchers.changed('o-1');
    expect(await answer).toMatchObject({ status: 'CONFIRMED' });
    expect(reads.n).toBe(1);
  });

  it('reads on its recheck: the placed row is only where it starts', async () => {
    let stored = pending;
    const { deps, reads, watchers } = depsFor(() => stored, 30);
    watchers.driving(pending);
    // Settled elsewhere (the lease lost to another instance) with no word reaching this one.
    stored = { ...pending, status: 'CANCELLED', reason: 'rejected' };
    expect(await asCustomer('c-1', () => getOrder(deps, 'o-1', 10_000))).toMatchObject({ status: 'CANCELLED' });
    expect(reads.n).toBe(1);
  });

  it('reads once the drive here has ended, and an unheld read always reads', async () => {
    const { deps, reads, watchers } = depsFor(() => pending);
    watchers.driving(pending);
    expect(await asCustomer('c-1', () => getOrder(deps, 'o-1'))).toEqual(pending);
    expect(reads.n).toBe(1);
    watchers.released('o-1');
    expect(watchers.placed('o-1')).toBeUndefined();
  });

  it('is a 404 for someone else’s order it drives, read from the placed row', async () => {
    const { deps, reads, watchers } = depsFor(() => pending);
    watchers.driving(pending);
    await expect(asCustomer('c-2', () => getOrder(deps, 'o-1', 10_000))).rejects.toBeInstanceOf(NotFound);
    expect(reads.n).toBe(0);
  });
});
