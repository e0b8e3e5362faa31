// End to end, on the real payments module: a payment route whose circuit is open makes the saga
// wait (a retry, not a cancellation), and it gives up with payment_unavailable at the payment
// deadline, refunding (voiding) and releasing what it held; a good card meanwhile confirms.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, type TestApp } from '../support/boot.ts';
import { actors, domainTestEnv, settled } from './commerce-world.ts';

describe('an order saga and an open payment circuit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootApp({
      engine: 'sqlite',
      env: { ...domainTestEnv, PAYMENT_BREAKER_THRESHOLD: '2', PAYMENT_BREAKER_HALF_OPEN_MS: '60000', PAYMENT_MAX_ATTEMPTS: '1', SAGA_PAYMENT_DEADLINE_SECONDS: '3' },
    });
  });
  afterAll(() => t?.close());

  it('waits while the route is closed, gives up at the payment deadline, and lets good cards through', async () => {
    const a = await actors({ baseUrl: t.baseUrl, token: t.token });
    const sku = await a.product(800, 5);
    const { api } = await a.customer();
    const metrics = async () => (await fetch(`${t.internalUrl}/metrics`)).text();
    // Two provider failures open the tok_fail route's circuit; those orders were attempted and end at once.
    for (const key of ['f1', 'f2']) {
      const r = await api.post('/api/v1/orders', { items: [{ sku, quantity: 1 }], paymentMethod: 'tok_fail' }, { 'idempotency-key': key });
      expect(await settled(api, r.body.id)).toMatchObject({ status: 'CANCELLED', reason: 'payment_unavailable' });
    }
    expect(await metrics()).toMatch(/circuit_breaker_state\{dependency="payment-provider",partition="tok_fail"[^}]*\} 1/);

    // The next tok_fail order finds the circuit open: not attempted, so the saga waits for it...
    const waiting = await api.post('/api/v1/orders', { items: [{ sku, quantity: 2 }], paymentMethod: 'tok_fail' }, { 'idempotency-key': 'f3' });
    // ...while a good card goes through untouched by that circuit.
    const good = await api.post('/api/v1/orders', { items: [{ sku, quantity: 1 }] }, { 'idempotency-key': 'ok-1' });
    expect(await settled(api, good.body.id)).toMatchObject({ status: 'CONFIRMED' });
    // Then, at the payment deadline, it gives up, voids the payment and puts the stock back.
    expect(await settled(api, waiting.body.id, 30_000)).toMatchObject({ status: 'CANCELLED', reason: 'payment_unavailable' });
    expect((await api.get(`/api/v1/inventory/${sku}`)).body).toMatchObject({ onHand: 4, reserved: 0 });
    expect((await api.get('/api/v1/accounts/me')).body).toMatchObject({ capturedMinor: 800, refundedMinor: 0, netMinor: 800 });
    const m = await metrics();
    expect(m).toMatch(/order_saga_step_retries_total\{step="charge"[^}]*\} [1-9]/);
    expect(m).toMatch(/order_sagas_finished_total\{outcome="CANCELLED",reason="payment_unavailable"[^}]*\} 3/);
  }, 60_000);
});
