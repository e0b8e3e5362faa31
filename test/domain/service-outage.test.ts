// Failure, shown: with payments extracted and its service killed mid-load, the
// monolith's calls fail fast once the breaker opens, sagas wait instead of half-finishing, and
// when the service comes back the breaker closes through half-open and every order completes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type RunningSystem } from '../support/topologies.ts';
import { eventually } from '../support/eventually.ts';
import { client } from '../support/http.ts';
import { actors, domainTestEnv, settled } from './commerce-world.ts';

describe('payments service killed mid-load', () => {
  let sys: RunningSystem;
  beforeAll(async () => {
    sys = await startSystem(
      { name: 'inventory+payments extracted', extracted: ['inventory', 'payments'] },
      { env: { ...domainTestEnv, REMOTE_BREAKER_FAILURES: '3', REMOTE_BREAKER_HALF_OPEN_MS: '500', REMOTE_TIMEOUT_MS: '1000', SAGA_RETRY_DELAY_MS: '100' } },
    );
  }, 300_000);
  afterAll(() => sys?.close(), 60_000);

  it('waits, fails fast while the circuit is open, and completes every order after the restart', { timeout: 300_000 }, async () => {
    const a = await actors({ baseUrl: sys.baseUrl, token: sys.token });
    const sku = await a.product(250, 1_000);
    const { name, api } = await a.customer();
    const monolithMetrics = async () => (await fetch(`${sys.monolithInternalUrl}/metrics`)).text();

    const before = await Promise.all(Array.from({ length: 5 }, (_, i) => api.post('/api/v1/orders', { items: [{ sku, quantity: 1 }] }, { 'idempotency-key': `pre-${i}` })));
    await sys.kill('payments');
    // Orders keep being accepted: pricing and reservation do not need payments.
    const during = await Promise.all(Array.from({ length: 10 }, (_, i) => api.post('/api/v1/orders', { items: [{ sku, quantity: 1 }] }, { 'idempotency-key': `mid-${i}` })));
    expect(during.map((r) => r.status)).toEqual(Array(10).fill(202));

    // The breaker opens; from then on the monolith's calls to payments are refused without touching
    // the network (counted as rejections) until a half-open probe finds the service again.
    await eventually(async () => /contract_breaker_state\{module="payments"[^}]*\} 1/.test(await monolithMetrics()), 'breaker open', 60_000, 200);
    await eventually(async () => /contract_remote_rejections_total\{module="payments",reason="open"[^}]*\} [1-9]/.test(await monolithMetrics()), 'calls failing fast', 60_000, 200);
    // What a user sees of the dead service through the proxy is a problem+json, never a hang.
    const account = await fetch(`${sys.baseUrl}/api/v1/accounts/me`, { headers: { authorization: `Bearer ${await sys.token(name)}` } });
    expect(account.status).toBeGreaterThanOrEqual(400);
    expect(account.headers.get('content-type')).toMatch(/application\/problem\+json/);
    // The sagas wait: nothing is cancelled, nothing is half-written.
    const mid = await Promise.all(during.map((r) => api.get(`/api/v1/orders/${r.body.id}`)));
    expect(mid.every((r) => r.body.status === 'PENDING')).toBe(true);
    const stockMid = (await api.get(`/api/v1/inventory/${sku}`)).body;
    expect(stockMid.onHand + 0).toBeLessThanOrEqual(1_000);

    // The monolith itself keeps accepting orders while payments is down.
    const internal = await fetch(`${sys.monolithUrl}/api/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await sys.token(name)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ sku, quantity: 1 }] }),
    });
    expect(internal.status).toBe(202);

    await sys.restart('payments');
    const all = [...before, ...during];
    const final = await Promise.all(all.map((r) => settled(api, r.body.id, 120_000)));
    expect(final.every((o) => o.status === 'CONFIRMED')).toBe(true);
    await eventually(async () => /contract_breaker_state\{module="payments"[^}]*\} 0/.test(await monolithMetrics()), 'breaker closed again', 60_000, 200);
    expect(await monolithMetrics()).toMatch(/contract_remote_rejections_total\{module="payments",reason="open"/);

    // Money moved exactly once per confirmed order (the internal order above included).
    const confirmed = all.length + 1;
    await settled(client(sys.baseUrl, await sys.token(name)), ((await internal.json()) as { id: string }).id, 120_000);
    expect((await api.get('/api/v1/accounts/me')).body).toMatchObject({ capturedMinor: 250 * confirmed, payments: confirmed });
    expect((await api.get(`/api/v1/inventory/${sku}`)).body).toMatchObject({ onHand: 1_000 - confirmed, reserved: 0 });
  });
});
