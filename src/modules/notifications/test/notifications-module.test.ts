// Notifications alone, through the module harness: events put into its inbox, as the modules that
// own them would publish them, become the messages customers and operators read — once each,
// however often an event is delivered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import notifications from '../module.ts';
import { CancelReason, OrderCancelled, OrderConfirmed } from '../../orders/index.ts';
import { PaymentRefunded } from '../../payments/index.ts';
import { LowStock } from '../../inventory/index.ts';
import type { ModuleHarness } from '../../../platform/testing/module-harness.ts';
import { engines } from '../../../../test/support/boot.ts';
import { moduleOn } from '../../../../test/support/module-on-engine.ts';

describe.each(engines)('notifications alone on %s', (engine) => {
  let m: ModuleHarness;
  beforeAll(async () => {
    m = await moduleOn(engine, notifications);
  });
  afterAll(() => m?.close());
  type Item = { kind: string; subject: string; body: string; orderId?: string };
  const mine = async (customer: string) => (await m.api(customer).get('/api/v1/customers/me/notifications')).body.items as Item[];
  const someFor = (customer: string) => m.state(() => mine(customer).then((items) => (items.length ? items : undefined)));
  const order = (customer: string, orderId: string) => ({ orderId, customerId: customer, totalMinor: 3600, currency: 'EUR' });

  it('tells a customer their order is confirmed, with the amount', async () => {
    const [message] = await m.scenario().publish(OrderConfirmed, { ...order('ann', 'o-1'), confirmedAt: '2026-11-30T10:00:00Z' }).andWaitForState(() => mine('ann').then((items) => (items.length ? items : undefined)));
    expect(message).toMatchObject({ kind: 'order_confirmed', subject: 'Your order is confirmed', orderId: 'o-1' });
    expect(message!.body).toContain('36.00 EUR');
  });

  it('says in words of its own why an order was cancelled, for every reason orders gives', async () => {
    const phrases = new Map<string, string>();
    for (const reason of CancelReason.options) {
      const customer = `cust-${reason}`;
      await m.publish(OrderCancelled, { ...order(customer, 'o-7'), reason, cancelledAt: '2026-11-30T10:00:00Z' });
      const [message] = await someFor(customer);
      const because = /^Order o-7 was cancelled because ([a-z ]+)\.$/.exec(message!.body)?.[1];
      expect(because, message!.body).toBeTruthy();
      phrases.set(reason, because!);
    }
    // A sentence for each reason, not the code with its underscores, and no two alike.
    expect(new Set(phrases.values()).size).toBe(CancelReason.options.length);
  });

  it('keeps one message per event, however often that event is delivered', async () => {
    const envelope = await m.publish(PaymentRefunded, { ...order('bob', 'o-9'), amountMinor: 500 });
    await m.deliver(envelope);
    await m.deliver(envelope);
    const items = await someFor('bob');
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: 'payment_refunded', subject: 'You have been refunded' });
    expect(items[0]!.body).toContain('5.00 EUR');
  });

  it('shows low-stock notices to operators only', async () => {
    await m.publish(LowStock, { sku: 'KETTLE-GOOSE', available: 1, threshold: 2 });
    const ops = await m.state(async () => {
      const r = await m.api('ops', ['admin']).get('/api/v1/notifications/operations');
      return r.body.items.length ? (r.body.items as Item[]) : undefined;
    });
    expect(ops[0]).toMatchObject({ kind: 'low_stock', subject: 'Low stock: KETTLE-GOOSE' });
    expect((await m.api('eve').get('/api/v1/notifications/operations')).status).toBe(403);
  });
});
