// The catalog alone, through the module harness: the events its writes publish, and its contract
// answering as another module would call it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import catalog from '../module.ts';
import { catalogContract, MixedCurrencies, ProductCreated, ProductUpdated } from '../index.ts';
import type { ModuleHarness } from '../../../platform/testing/module-harness.ts';
import { engines } from '../../../../test/support/boot.ts';
import { moduleOn } from '../../../../test/support/module-on-engine.ts';

describe.each(engines)('catalog alone on %s', (engine) => {
  let m: ModuleHarness;
  beforeAll(async () => {
    m = await moduleOn(engine, catalog);
  });
  afterAll(() => m?.close());
  const admin = () => m.api('ops', ['admin']);

  it('announces a new product, once, however often the request is repeated with its key', async () => {
    const body = { sku: 'TEA-OOLONG', name: 'Oolong, 100 g', priceMinor: 1600, currency: 'EUR' };
    const created = await m.scenario().stimulate(() => admin().post('/api/v1/products', body, { 'idempotency-key': 'new-oolong' })).andWaitForEvent(ProductCreated, (p) => p.sku === 'TEA-OOLONG');
    expect(created).toEqual({ sku: 'TEA-OOLONG', name: 'Oolong, 100 g', priceMinor: 1600, currency: 'EUR' });
    const again = await admin().post('/api/v1/products', body, { 'idempotency-key': 'new-oolong' });
    expect(again.status).toBe(201);
    expect((await m.published(ProductCreated)).filter((p) => p.sku === 'TEA-OOLONG')).toHaveLength(1);
  });

  it('announces a change with the new version, and only changes that happened', async () => {
    const updated = await m.scenario()
      .stimulate(() => admin().patch('/api/v1/products/TEA-OOLONG', { priceMinor: 1700 }, { 'content-type': 'application/merge-patch+json' }))
      .andWaitForEvent(ProductUpdated, (p) => p.sku === 'TEA-OOLONG');
    expect(updated).toMatchObject({ priceMinor: 1700, version: 2 });
    // A stale update is refused and announces nothing.
    expect((await admin().patch('/api/v1/products/TEA-OOLONG', { priceMinor: 1, expectedVersion: 1 })).status).toBe(409);
    expect(await m.published(ProductUpdated)).toHaveLength(1);
    // A customer may not change the catalog.
    expect((await m.api('eve').patch('/api/v1/products/TEA-OOLONG', { priceMinor: 1 })).status).toBe(403);
  });

  it('prices a basket for another module, and refuses one in two currencies with the declared error', async () => {
    const api = m.contract(catalogContract);
    await admin().post('/api/v1/products', { sku: 'CUP-USD', name: 'Cup', priceMinor: 500, currency: 'USD' });
    expect(await api.priceItems({ items: [{ sku: 'TEA-OOLONG', quantity: 2 }] })).toMatchObject({ totalMinor: 3400, currency: 'EUR' });
    await expect(api.priceItems({ items: [{ sku: 'TEA-OOLONG', quantity: 1 }, { sku: 'CUP-USD', quantity: 1 }] })).rejects.toBeInstanceOf(MixedCurrencies);
  });
});
