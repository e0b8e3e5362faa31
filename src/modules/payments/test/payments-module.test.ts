// Payments alone, through the module harness: each outcome of a charge and a refund is an event,
// and the account can be read as it stood at an earlier moment of the test's own clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import payments from '../module.ts';
import { PaymentCaptured, PaymentDeclined, PaymentDeclinedEvent, PaymentRefunded, paymentsContract } from '../index.ts';
import { manualClock } from '../../../platform/testing/manual-clock.ts';
import type { ModuleHarness } from '../../../platform/testing/module-harness.ts';
import { engines } from '../../../../test/support/boot.ts';
import { moduleOn } from '../../../../test/support/module-on-engine.ts';

describe.each(engines)('payments alone on %s', (engine) => {
  let m: ModuleHarness;
  const clock = manualClock(new Date('2026-11-30T10:00:00Z'));
  beforeAll(async () => {
    m = await moduleOn(engine, payments, { clock, env: { PAYMENT_TIMEOUT_MS: '100', PAYMENT_SLOW_MS: '300' } });
  });
  afterAll(() => m?.close());
  const api = () => m.contract(paymentsContract);

  it('publishes PaymentCaptured for a charge, once, however often the saga repeats it', async () => {
    const charge = () => api().charge({ orderId: 'o-1', customerId: 'ann', amountMinor: 1250, currency: 'EUR', paymentMethod: 'tok_ok' });
    const captured = await m.scenario().stimulate(charge).andWaitForEvent(PaymentCaptured, (p) => p.orderId === 'o-1');
    expect(captured).toEqual({ orderId: 'o-1', customerId: 'ann', amountMinor: 1250, currency: 'EUR' });
    await charge();
    expect(await m.published(PaymentCaptured)).toHaveLength(1);
  });

  it('publishes PaymentDeclined for a declined card and raises the declared error', async () => {
    const declined = await m.scenario()
      .stimulate(() => api().charge({ orderId: 'o-2', customerId: 'ann', amountMinor: 500, currency: 'EUR', paymentMethod: 'tok_decline' }).catch((e: unknown) => e))
      .andWaitForEvent(PaymentDeclinedEvent, (p) => p.orderId === 'o-2');
    expect(declined.reason).toBe('card_declined');
    await expect(api().charge({ orderId: 'o-2', customerId: 'ann', amountMinor: 500, currency: 'EUR', paymentMethod: 'tok_ok' })).rejects.toBeInstanceOf(PaymentDeclined);
  });

  it('publishes PaymentRefunded, and answers the account as it stood before the refund', async () => {
    const beforeRefund = clock.now();
    clock.advance(60_000);
    const refunded = await m.scenario().stimulate(() => api().refund({ orderId: 'o-1', customerId: 'ann' })).andWaitForEvent(PaymentRefunded, (p) => p.orderId === 'o-1');
    expect(refunded.amountMinor).toBe(1250);
    expect(await api().getAccount({ customerId: 'ann' })).toMatchObject({ capturedMinor: 1250, refundedMinor: 1250, netMinor: 0 });
    expect(await api().getAccount({ customerId: 'ann', at: beforeRefund.toISOString() })).toMatchObject({ capturedMinor: 1250, refundedMinor: 0, netMinor: 1250 });
  });
});
