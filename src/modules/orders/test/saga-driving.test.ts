// What drives an order's saga: the hand-over when its placement commits, and the poll behind it.
// Each alone must finish every order, and a client can follow an order with one long-poll.
import { afterEach, describe, expect, it } from 'vitest';
import orders from '../module.ts';
import { catalogContract } from '../../catalog/index.ts';
import { inventoryContract } from '../../inventory/index.ts';
import { paymentsContract } from '../../payments/index.ts';
import { fake } from '../../../platform/testing/contract-fake.ts';
import type { ModuleHarness } from '../../../platform/testing/module-harness.ts';
import { engines } from '../../../../test/support/boot.ts';
import { eq } from 'drizzle-orm';
import { OrderConfirmed } from '../events.ts';
import { moduleOn } from '../../../../test/support/module-on-engine.ts';

/** Contracts that always succeed; a charge waits for `paymentGate`, a commit for `commitGate`, when set. */
function fakes(o: { paymentGate?: () => Promise<void>; commitGate?: () => Promise<void> } = {}) {
  return [
    fake(catalogContract, {
      async priceItems({ items }) {
        const lines = items.map((i) => ({ sku: i.sku, name: i.sku, quantity: i.quantity, unitPriceMinor: 100, lineTotalMinor: 100 * i.quantity }));
        return { lines, totalMinor: lines.reduce((s, l) => s + l.lineTotalMinor, 0), currency: 'EUR' };
      },
    }),
    fake(inventoryContract, {
      async reserveStock({ orderId, lines }) {
        return { orderId, status: 'held', lines, expiresAt: new Date(Date.now() + 900_000).toISOString() };
      },
      async commitReservation({ orderId }) {
        await o.commitGate?.();
        return { orderId, status: 'committed', lines: [], expiresAt: new Date().toISOString() };
      },
    }),
    fake(paymentsContract, {
      async charge({ orderId }) {
        await o.paymentGate?.();
        return { orderId, status: 'captured', providerRef: `ref-${orderId}` };
      },
    }),
  ];
}

const ORDERS = 40; // more than the runner drives at once (32): some must wait for room

async function placeMany(m: ModuleHarness): Promise<string[]> {
  const placed = await Promise.all(Array.from({ length: ORDERS }, (_, i) => m.api(`c${i % 5}`).post('/api/v1/orders', { items: [{ sku: 'TEA', quantity: 1 }] })));
  expect(placed.map((r) => r.status)).toEqual(placed.map(() => 202));
  return placed.map((r) => r.body.id);
}

async function statuses(m: ModuleHarness, ids: string[]) {
  const { orders: t, sagas } = m.store.tables as any;
  const rows = (await m.store.db.select().from(t)) as { id: string; status: string }[];
  const open = ((await m.store.db.select().from(sagas)) as { orderId: string; done: boolean }[]).filter((s) => ids.includes(s.orderId) && !s.done);
  return { confirmed: rows.filter((r) => ids.includes(r.id) && r.status === 'CONFIRMED').length, openSagas: open.length };
}

describe.each(engines)('order sagas on %s', (engine) => {
  let m: ModuleHarness | undefined;
  /** Opens whatever a test left held, so closing does not wait on it. */
  let release: (() => void) | undefined;
  afterEach(async () => {
    release?.();
    release = undefined;
    await m?.close();
    m = undefined;
  });

  it('are finished by the poll alone when nothing hands them over', async () => {
    m = await moduleOn(engine, orders, { env: { SAGA_DRIVE_ON_COMMIT: 'false', SAGA_POLL_MS: '50' }, fakes: fakes() });
    const ids = await placeMany(m);
    const done = await m.state(async () => {
      const s = await statuses(m!, ids);
      return s.confirmed === ORDERS && s.openSagas === 0 && s;
    });
    expect(done).toEqual({ confirmed: ORDERS, openSagas: 0 });
  });

  it('are finished by the hand-over at commit when the poll comes only every ten minutes', async () => {
    m = await moduleOn(engine, orders, { env: { SAGA_POLL_MS: '600000', LOG_LEVEL: process.env.DEBUG_LOG ?? 'silent' }, fakes: fakes() });
    const ids = await placeMany(m);
    const done = await m.state(async () => {
      const s = await statuses(m!, ids);
      return s.confirmed === ORDERS && s.openSagas === 0 && s;
    });
    expect(done).toEqual({ confirmed: ORDERS, openSagas: 0 });
  });

  it('gives the slot back when a placement does not commit (the runner still finishes the others and stops)', async () => {
    m = await moduleOn(engine, orders, { env: { SAGA_POLL_MS: '600000' }, fakes: fakes() });
    const api = m.api('twice');
    // The same key with two different bodies at once: one placement commits, the other is refused.
    const both = await Promise.all([1, 2].map((q) => api.post('/api/v1/orders', { items: [{ sku: 'TEA', quantity: q }] }, { 'idempotency-key': 'same-key' })));
    const placed = both.filter((r) => r.status === 202);
    expect(placed.length).toBeGreaterThanOrEqual(1);
    const ids = [...new Set(placed.map((r) => r.body.id as string))];
    await m.state(async () => (await statuses(m!, ids)).confirmed === ids.length);
    // A slot held for the refused one would keep stop() waiting forever.
    await m.close();
    m = undefined;
  });

  it('answers a long-poll when the order is final, and PENDING when the wait runs out', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    m = await moduleOn(engine, orders, { env: { SAGA_POLL_MS: '600000' }, fakes: fakes({ paymentGate: () => gate }) });
    const api = m.api('waiter');
    const { body } = await api.post('/api/v1/orders', { items: [{ sku: 'TEA', quantity: 1 }] });
    // The charge is held: no wait at all, and a short wait that runs out, both see PENDING.
    expect((await api.get(`/api/v2/orders/${body.id}`)).body.state.code).toBe('PENDING');
    expect((await api.get(`/api/v2/orders/${body.id}?waitSeconds=1`)).body.state.code).toBe('PENDING');
    // A long wait is under way when the charge goes through; it answers with the final order.
    const waiting = api.get(`/api/v2/orders/${body.id}?waitSeconds=20`);
    open();
    const answered = await waiting;
    expect(answered.status).toBe(200);
    expect(answered.body.state).toEqual({ code: 'CONFIRMED', reason: null, final: true });
    // Someone else's order stays a 404, waiting or not.
    expect((await m.api('other').get(`/api/v2/orders/${body.id}?waitSeconds=1`)).status).toBe(404);
    expect((await api.get(`/api/v2/orders/${body.id}?waitSeconds=99`)).status).toBe(400);
  });

  /** A saga held at its last step (the commit) until `open` is called; answers the order's id once it is there. */
  async function heldAtCommit(env: Record<string, string> = {}) {
    let open!: () => void;
    let reached!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const atCommit = new Promise<void>((r) => (reached = r));
    const h = (m = await moduleOn(engine, orders, { env: { SAGA_POLL_MS: '600000', ...env }, fakes: fakes({ commitGate: () => (reached(), gate) }) }));
    const { body } = await h.api('settler').post('/api/v1/orders', { items: [{ sku: 'TEA', quantity: 1 }] });
    release = open;
    await atCommit;
    return { h, id: body.id as string, open };
  }

  const sagaRow = async (id: string) => {
    const { sagas } = m!.store.tables as any;
    return ((await m!.store.db.select().from(sagas).where(eq(sagas.orderId, id))) as { done: boolean; leaseOwner: string | null }[])[0]!;
  };
  const orderRow = async (id: string) => {
    const { orders: t } = m!.store.tables as any;
    return ((await m!.store.db.select().from(t).where(eq(t.id, id))) as { status: string; reason: string | null }[])[0]!;
  };

  it('settles nothing when another runner took the saga over before its end, and that runner confirms it once', async () => {
    const { h, id, open } = await heldAtCommit({ SAGA_LEASE_MS: '600000' });
    const { sagas } = h.store.tables as any;
    // Another instance holds the saga now (this one's lease ran out while the commit hung).
    await h.store.transaction((tx) => tx.update(sagas).set({ leaseOwner: 'another-runner', leaseUntil: new Date(Date.now() + 600_000) }).where(eq(sagas.orderId, id)));
    open();
    await h.state(async () => /order_saga_leases_lost_total(\{[^}]*\})? 1/.test(await h.app.metrics.registry.metrics()));
    expect(await orderRow(id)).toMatchObject({ status: 'PENDING' });
    expect(await sagaRow(id)).toMatchObject({ done: false, leaseOwner: 'another-runner' });
    expect((await h.published(OrderConfirmed)).filter((e) => e.orderId === id)).toEqual([]);
    // The other instance goes away: its lease runs out, the poll picks the saga up and ends it, once.
    await h.store.transaction((tx) => tx.update(sagas).set({ leaseUntil: new Date(Date.now() - 1000) }).where(eq(sagas.orderId, id)));
    await h.runJobs();
    await h.state(async () => (await sagaRow(id)).done);
    expect(await orderRow(id)).toMatchObject({ status: 'CONFIRMED' });
    expect((await h.published(OrderConfirmed)).filter((e) => e.orderId === id)).toHaveLength(1);
  });

  it("saves nothing after a step when another runner took the saga over meanwhile, and that runner finishes it", async () => {
    let open!: () => void;
    let reached!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const atCharge = new Promise<void>((r) => (reached = r));
    const h = (m = await moduleOn(engine, orders, { env: { SAGA_POLL_MS: '600000', SAGA_LEASE_MS: '600000' }, fakes: fakes({ paymentGate: () => (reached(), gate) }) }));
    const { body } = await h.api('saver').post('/api/v1/orders', { items: [{ sku: 'TEA', quantity: 1 }] });
    const id = body.id as string;
    release = open;
    await atCharge;
    const { sagas } = h.store.tables as any;
    await h.store.transaction((tx) => tx.update(sagas).set({ leaseOwner: 'another-runner', leaseUntil: new Date(Date.now() + 600_000) }).where(eq(sagas.orderId, id)));
    open();
    await h.state(async () => /order_saga_leases_lost_total(\{[^}]*\})? 1/.test(await h.app.metrics.registry.metrics()));
    // The charge's save found the lease gone: the row is as the other runner left it, still at the charge.
    expect(await sagaRow(id)).toMatchObject({ done: false, leaseOwner: 'another-runner', plan: ['charge', 'commit', 'confirm'] });
    expect(await orderRow(id)).toMatchObject({ status: 'PENDING' });
    await h.store.transaction((tx) => tx.update(sagas).set({ leaseUntil: new Date(Date.now() - 1000) }).where(eq(sagas.orderId, id)));
    await h.runJobs();
    await h.state(async () => (await sagaRow(id)).done);
    expect(await orderRow(id)).toMatchObject({ status: 'CONFIRMED' });
    expect((await h.published(OrderConfirmed)).filter((e) => e.orderId === id)).toHaveLength(1);
  });

  it('ends the saga of an order settled by hand meanwhile, and tells of no settle that did not happen', async () => {
    const { h, id, open } = await heldAtCommit();
    const { orders: t } = h.store.tables as any;
    await h.store.transaction((tx) => tx.update(t).set({ status: 'CANCELLED', reason: 'rejected' }).where(eq(t.id, id)));
    open();
    await h.state(async () => (await sagaRow(id)).done);
    expect(await orderRow(id)).toMatchObject({ status: 'CANCELLED', reason: 'rejected' });
    expect((await h.published(OrderConfirmed)).filter((e) => e.orderId === id)).toEqual([]);
  });

  it('answers a held long-poll with what it has as soon as shutdown begins', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    m = await moduleOn(engine, orders, { env: { SAGA_POLL_MS: '600000', SHUTDOWN_TIMEOUT_MS: '60000' }, fakes: fakes({ paymentGate: () => gate }) });
    const api = m.api('leaving');
    const { body } = await api.post('/api/v1/orders', { items: [{ sku: 'TEA', quantity: 1 }] });
    const asked = Date.now();
    const waiting = api.get(`/api/v2/orders/${body.id}?waitSeconds=20`);
    await new Promise((r) => setTimeout(r, 100));
    // The drain waits for requests in flight: a held read must not keep it waiting out its 20 s.
    const closing = m.close();
    m = undefined;
    const answered = await waiting;
    expect(answered.status).toBe(200);
    expect(answered.body.state.code).toBe('PENDING');
    // Answered because shutdown began, not because its own 20 s ran out.
    expect(Date.now() - asked).toBeLessThan(20_000);
    open();
    await closing;
  });
});
