// Orders alone: its saga against fakes of the catalog, inventory and payments contracts, on a
// clock the test moves. Each scenario stimulates the module and waits for the event it publishes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import orders from '../module.ts';
import { OrderCancelled, OrderConfirmed, OrderPlaced } from '../index.ts';
import { catalogContract, ProductNotFound } from '../../catalog/index.ts';
import { inventoryContract, ReservationClosed } from '../../inventory/index.ts';
import { paymentsContract, PaymentDeclined, PaymentUnavailable } from '../../payments/index.ts';
import { fake } from '../../../platform/testing/contract-fake.ts';
import { manualClock } from '../../../platform/testing/manual-clock.ts';
import type { ModuleHarness } from '../../../platform/testing/module-harness.ts';
import { engines } from '../../../../test/support/boot.ts';
import { moduleOn } from '../../../../test/support/module-on-engine.ts';

type Charge = 'ok' | 'decline' | 'wait' | 'fail';

describe.each(engines)('orders alone on %s', (engine) => {
  let m: ModuleHarness;
  const clock = manualClock(new Date('2026-11-30T12:00:00Z'));
  /** What the fake payments contract does with the next charge of a customer. */
  const charging = new Map<string, Charge>();
  const charged: string[] = [];
  const refunded: string[] = [];
  const reservations = new Map<string, 'held' | 'committed' | 'released' | 'expired'>();

  beforeAll(async () => {
    m = await moduleOn(engine, orders, {
      clock,
      env: { SAGA_RETRY_DELAY_MS: '100', SAGA_PAYMENT_DEADLINE_SECONDS: '20', LOG_LEVEL: process.env.DEBUG_LOG ?? 'silent' },
      fakes: [
        fake(catalogContract, {
          async priceItems({ items }) {
            const unknown = items.filter((i) => i.sku.startsWith('NOPE')).map((i) => i.sku);
            if (unknown.length) throw new ProductNotFound(`Unknown sku(s): ${unknown.join(', ')}`, { skus: unknown });
            const lines = items.map((i) => ({ sku: i.sku, name: `Item ${i.sku}`, quantity: i.quantity, unitPriceMinor: 500, lineTotalMinor: 500 * i.quantity }));
            return { lines, totalMinor: lines.reduce((s, l) => s + l.lineTotalMinor, 0), currency: 'EUR' };
          },
        }),
        fake(inventoryContract, {
          async reserveStock({ orderId, lines }) {
            reservations.set(orderId, 'held');
            return { orderId, status: 'held', lines, expiresAt: new Date(clock.now().getTime() + 900_000).toISOString() };
          },
          async commitReservation({ orderId }) {
            if (reservations.get(orderId) !== 'held') throw new ReservationClosed(`The reservation for order ${orderId} was ${reservations.get(orderId)}`, { status: reservations.get(orderId) ?? 'none' });
            reservations.set(orderId, 'committed');
            return { orderId, status: 'committed', lines: [], expiresAt: clock.now().toISOString() };
          },
          async releaseReservation({ orderId }) {
            if (reservations.get(orderId) === 'held') reservations.set(orderId, 'released');
            return { orderId, status: 'released' };
          },
        }),
        fake(paymentsContract, {
          async charge({ orderId, customerId }) {
            const how = charging.get(customerId) ?? 'ok';
            if (how === 'decline') throw new PaymentDeclined('The payment was declined', { reason: 'card_declined' });
            if (how === 'wait') throw new PaymentUnavailable('circuit open', { retryLater: true });
            if (how === 'fail') throw new PaymentUnavailable('no answer', { retryLater: false });
            charged.push(orderId);
            return { orderId, status: 'captured', providerRef: `ref-${orderId}` };
          },
          async refund({ orderId }) {
            refunded.push(orderId);
            return { orderId, status: charged.includes(orderId) ? 'refunded' : 'voided' };
          },
        }),
      ],
    });
  });
  afterAll(() => m?.close());

  const place = (customer: string, items = [{ sku: 'TEA', quantity: 2 }]) => m.api(customer).post('/api/v1/orders', { items });

  it('publishes OrderPlaced with the priced lines, then confirms once stock is held and payment taken', async () => {
    let id = '';
    const placedEvent = await m.scenario()
      .stimulate(async () => {
        const r = await place('ann');
        expect(r.status).toBe(202);
        id = r.body.id;
      })
      .andWaitForEvent(OrderPlaced, (p) => p.customerId === 'ann');
    expect(placedEvent).toMatchObject({ orderId: id, totalMinor: 1000, currency: 'EUR', lines: [{ sku: 'TEA', quantity: 2, unitPriceMinor: 500 }] });
    const confirmed = await m.event(OrderConfirmed, (p) => p.orderId === id);
    expect(confirmed.totalMinor).toBe(1000);
    expect(reservations.get(id)).toBe('committed');
    expect(charged.filter((o) => o === id)).toHaveLength(1);
    expect((await m.api('ann').get(`/api/v1/orders/${id}`)).body).toMatchObject({ status: 'CONFIRMED' });
    // The read model follows from the module's own events.
    await m.state(async () => (await m.api('ann').get('/api/v1/customers/me/orders')).body.items.find((o: { orderId: string; status: string }) => o.orderId === id && o.status === 'CONFIRMED'));
  });

  it('cancels with payment_declined and releases the stock when the card is declined', async () => {
    charging.set('bob', 'decline');
    const { body } = await place('bob');
    const cancelled = await m.event(OrderCancelled, (p) => p.orderId === body.id);
    expect(cancelled.reason).toBe('payment_declined');
    expect(reservations.get(body.id)).toBe('released');
  });

  it('waits while the payment route is closed, and gives up with payment_unavailable at the payment deadline', async () => {
    charging.set('cat', 'wait');
    const { body } = await place('cat');
    await m.state(async () => (await m.api('cat').get(`/api/v1/orders/${body.id}`)).body.status === 'PENDING' && reservations.get(body.id) === 'held');
    // Ten seconds later it is still waiting, not cancelled: the circuit may close.
    await m.advance(10_000);
    expect((await m.published(OrderCancelled)).some((p) => p.orderId === body.id)).toBe(false);
    // Past the payment deadline the saga gives up, voids the payment and releases the stock.
    const cancelled = await m.scenario().advance(15_000).andWaitForEvent(OrderCancelled, (p) => p.orderId === body.id);
    expect(cancelled.reason).toBe('payment_unavailable');
    expect(refunded).toContain(body.id);
    expect(reservations.get(body.id)).toBe('released');
  });

  it('refunds and ends reservation_expired when the stock reservation lapsed while payment waited', async () => {
    charging.set('dan', 'wait');
    const { body } = await place('dan');
    await m.state(() => reservations.get(body.id) === 'held');
    // The reservation expires meanwhile; then the circuit closes and the charge goes through.
    reservations.set(body.id, 'expired');
    charging.set('dan', 'ok');
    const cancelled = await m.scenario().advance(5_000).andWaitForEvent(OrderCancelled, (p) => p.orderId === body.id);
    expect(cancelled.reason).toBe('reservation_expired');
    expect(charged).toContain(body.id);
    expect(refunded).toContain(body.id);
  });

  it('refuses unknown products with a 4xx and writes nothing', async () => {
    const before = (await m.published(OrderPlaced)).length;
    const r = await place('eve', [{ sku: 'NOPE-1', quantity: 1 }]);
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('UnknownProducts');
    expect((await m.published(OrderPlaced)).length).toBe(before);
  });
});
