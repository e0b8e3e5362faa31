// The saga waits out an open circuit instead of cancelling, and compensates correctly when its
// stock reservation expired meanwhile: the capture is refunded and the order ends
// reservation_expired.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, type TestApp } from '../support/boot.ts';
import { actors, domainTestEnv, settled } from './commerce-world.ts';

describe('an order saga and an open payment circuit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootApp({
      engine: 'sqlite',
      env: { ...domainTestEnv, PAYMENT_BREAKER_THRESHOLD: '2', PAYMENT_BREAKER_HALF_OPEN_MS: '1500', PAYMENT_MAX_ATTEMPTS: '1', RESERVATION_TTL_SECONDS: '1' },
    });
  });
  afterAll(() => t?.close());

  it('waits for the circuit, then refunds when the reservation expired meanwhile', async () => {
    const a = await actors({ baseUrl: t.baseUrl, token: t.token });
    const sku = await a.product(800, 5);
    const { api } = await a.customer();
    // Two provider failures open the circuit.
    for (const key of ['f1', 'f2']) {
      const r = await api.post('/api/v1/orders', { items: [{ sku, quantity: 1 }], paymentMethod: 'tok_fail' }, { 'idempotency-key': key });
      expect(await settled(api, r.body.id)).toMatchObject({ status: 'CANCELLED', reason: 'payment_unavailable' });
    }
    expect(await (await fetch(`${t.internalUrl}/metrics`)).text()).toMatch(/circuit_breaker_state\{dependency="payment-provider"[^}]*\} 1/);

    // A good card now finds the circuit open: the saga waits (not cancelled) until it half-opens,
    // by which time the one-second reservation has expired.
    const placed = await api.post('/api/v1/orders', { items: [{ sku, quantity: 2 }] });
    const order = await settled(api, placed.body.id, 30_000);
    expect(order).toMatchObject({ status: 'CANCELLED', reason: 'reservation_expired' });
    expect((await api.get('/api/v1/accounts/me')).body).toMatchObject({ capturedMinor: 1600, refundedMinor: 1600, netMinor: 0 });
    expect((await api.get(`/api/v1/inventory/${sku}`)).body).toMatchObject({ onHand: 5, reserved: 0 });
    const metrics = await (await fetch(`${t.internalUrl}/metrics`)).text();
    expect(metrics).toMatch(/order_saga_step_retries_total\{step="charge"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/order_sagas_finished_total\{outcome="CANCELLED",reason="reservation_expired"/);
  }, 60_000);
});
