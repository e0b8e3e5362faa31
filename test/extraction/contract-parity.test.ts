// A contract behaves the same in-process and remote. The catalog's real contract, called
// through both bindings against one running app: the same answers, the same error classes with
// the same codes, messages and details, the same validation issues.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, type TestApp } from '../support/boot.ts';
import { client } from '../support/http.ts';
import { catalogContract, MixedCurrencies, ProductNotFound } from '../../src/modules/catalog/index.ts';
import { ValidationFailed, type AnyErrorClass } from '../../src/platform/errors/domain-error.ts';
import { instancePool, type InstancePool } from '../../src/platform/remote/instance-pool.ts';
import { bindRemote, modulePolicies } from '../../src/platform/remote/remote-binding.ts';
import { serviceCredentials } from '../../src/platform/remote/service-credentials.ts';
import type { ContractApi } from '../../src/platform/contracts/define-contract.ts';

describe('the catalog contract in-process and remote', () => {
  let t: TestApp;
  let pool: InstancePool;
  let local: ContractApi<typeof catalogContract>;
  let remote: ContractApi<typeof catalogContract>;

  beforeAll(async () => {
    t = await bootApp({ engine: 'sqlite', modules: ['catalog'] });
    const admin = client(t.baseUrl, await t.token('root', ['admin']));
    for (const [sku, currency] of [['PAR-EUR', 'EUR'], ['PAR-USD', 'USD']]) {
      expect((await admin.post('/api/v1/products', { sku, name: `Parity ${sku}`, priceMinor: 250, currency })).status).toBe(201);
    }
    local = t.app.contract(catalogContract);
    pool = instancePool({ module: 'catalog', instances: [t.internalUrl], maxSockets: 4 });
    remote = bindRemote(catalogContract, {
      pool,
      policies: modulePolicies('catalog', { timeoutMs: 2_000, retries: 1, backoffMs: 10, breakerFailures: 5, halfOpenAfterMs: 1_000, bulkhead: 8, bulkheadQueue: 8 }),
      credentials: serviceCredentials({ secret: t.config.serviceJwtSecret!, deployable: 'parity-test' }),
    });
  });
  afterAll(async () => {
    pool?.close();
    await t?.close();
  });

  const both = async <T>(call: (api: ContractApi<typeof catalogContract>) => Promise<T>) => {
    const settle = (p: Promise<T>) => p.then((value) => ({ value }), (error: unknown) => ({ error }));
    return { local: await settle(call(local)), remote: await settle(call(remote)) };
  };
  const shape = (e: unknown) => ({ cls: (e as object).constructor, code: (e as { code?: string }).code, message: (e as Error).message, status: (e as { status?: number }).status, details: (e as { details?: unknown }).details });

  it('answers the same values', async () => {
    const r = await both((api) => api.getProduct({ sku: 'PAR-EUR' }));
    expect(r.local).toHaveProperty('value');
    expect(r.remote).toEqual(r.local);
    const priced = await both((api) => api.priceItems({ items: [{ sku: 'PAR-EUR', quantity: 3 }] }));
    expect(priced.remote).toEqual(priced.local);
  });

  type Api = ContractApi<typeof catalogContract>;
  const cases: [string, AnyErrorClass, (api: Api) => Promise<unknown>][] = [
    ['an unknown product', ProductNotFound, (api) => api.getProduct({ sku: 'PAR-NONE' })],
    ['unknown skus in a basket, all named', ProductNotFound, (api) => api.priceItems({ items: [{ sku: 'PAR-X', quantity: 1 }, { sku: 'PAR-Y', quantity: 1 }] })],
    ['a basket in two currencies', MixedCurrencies, (api) => api.priceItems({ items: [{ sku: 'PAR-EUR', quantity: 1 }, { sku: 'PAR-USD', quantity: 1 }] })],
    ['an input outside the schema', ValidationFailed, (api) => api.getProduct({ sku: 'lower-case' })],
  ];
  it.each(cases)('raises the same error for %s', async (_what, cls, call) => {
    const r = await both(call);
    expect('error' in r.local && r.local.error).toBeInstanceOf(cls);
    expect('error' in r.remote && shape(r.remote.error)).toEqual('error' in r.local && shape(r.local.error));
  });
});
