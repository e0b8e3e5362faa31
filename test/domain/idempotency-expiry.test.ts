// Keys expire after IDEMPOTENCY_TTL_SECONDS; after that the same key is a new request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, type TestApp } from '../support/boot.ts';
import { eventually } from '../support/eventually.ts';
import { actors, domainTestEnv } from './commerce-world.ts';

describe('idempotency keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootApp({ engine: 'sqlite', env: { ...domainTestEnv, IDEMPOTENCY_TTL_SECONDS: '1' } });
  });
  afterAll(() => t?.close());

  it('expire after the configured time', async () => {
    const a = await actors({ baseUrl: t.baseUrl, token: t.token });
    const sku = await a.product(100, 10);
    const { api } = await a.customer();
    const body = { items: [{ sku, quantity: 1 }] };
    const first = await api.post('/api/v1/orders', body, { 'idempotency-key': 'short-lived' });
    expect((await api.post('/api/v1/orders', body, { 'idempotency-key': 'short-lived' })).body.id).toBe(first.body.id);
    const later = await eventually(async () => {
      const r = await api.post('/api/v1/orders', body, { 'idempotency-key': 'short-lived' });
      return r.status === 202 && r.body.id !== first.body.id ? r : undefined;
    }, 'key expired', 10_000, 200);
    expect(later.headers.get('idempotent-replayed')).toBeNull();
  });
});
