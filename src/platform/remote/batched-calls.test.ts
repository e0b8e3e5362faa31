// Calls of an idempotent operation made together leave as one batch request, and each still gets
// what it would have got alone: its output or its own typed error, its own end user, the service
// credential checked. A callee without the batch form (an older version) gets single calls.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_CONCURRENCY, BATCH_LIMIT, runBatch } from './contract-batch.ts';
import { instancePool, type InstancePool } from './instance-pool.ts';
import { bindRemote, modulePolicies } from './remote-binding.ts';
import { currentContext, runWithContext } from '../context/request-context.ts';
import { ContractViolation, Forbidden, ValidationFailed } from '../errors/domain-error.ts';
import { UnknownSku, warehouseContract } from '../../../test/fixtures/modules/warehouse/index.ts';
import { stubWarehouseHandlers } from '../../../test/fixtures/modules/warehouse/stub-handlers.ts';
import { callerCredentials, stubProvider, type StubProvider } from '../../../test/fixtures/modules/warehouse/stub-provider.ts';

interface Provider extends StubProvider {
  /** The request id each `level` call saw, by sku. */
  seen: Map<string, string | undefined>;
}

/** A provider; `batchForm: false` serves only single calls, as a version before batching did. */
async function provider(o: { batchForm?: boolean } = {}): Promise<Provider> {
  const seen = new Map<string, string | undefined>();
  const p = await stubProvider(stubWarehouseHandlers(new Map(), (sku) => (seen.set(sku, currentContext()?.requestId), sku.length)), o);
  return { ...p, seen };
}

const pools: InstancePool[] = [];
function client(url: string, o: { batchMax?: number; now?: () => number } = {}) {
  const pool = instancePool({ module: 'warehouse', instances: [url], maxSockets: 8 });
  pools.push(pool);
  const policies = modulePolicies('warehouse', { timeoutMs: 1_000, retries: 2, backoffMs: 5, breakerFailures: 5, halfOpenAfterMs: 300, bulkhead: 16, bulkheadQueue: 16 });
  return bindRemote(warehouseContract, { pool, policies, credentials: callerCredentials, batchMax: o.batchMax ?? 64, now: o.now });
}
const batches = (p: Provider) => p.paths.filter((path) => path.endsWith('/batch')).length;

describe('batched remote calls', () => {
  let a: Provider;
  beforeAll(async () => {
    a = await provider();
  });
  afterAll(() => a.close());
  afterEach(() => {
    while (pools.length) pools.pop()!.close();
  });

  it('sends calls made in the same turn as one request and answers each its own output', async () => {
    const api = client(a.url);
    // The first call mints the service token; calls made before it has one wait for it in turns of their own.
    await api.level({ sku: 'warm' });
    const before = a.paths.length;
    const skus = ['A', 'BB', 'CCC', 'DDDD', 'EEEEE'];
    const out = await Promise.all(skus.map((sku) => api.level({ sku })));
    expect(out).toEqual(skus.map((sku) => ({ sku, reserved: sku.length })));
    expect(a.paths.slice(before)).toEqual(['/internal/contracts/warehouse/level/batch']);
  });

  it('cuts a turn’s calls into batches of at most REMOTE_BATCH_MAX, and sends a lone call alone', async () => {
    const api = client(a.url, { batchMax: 4 });
    await api.level({ sku: 'warm' });
    const before = a.paths.length;
    await Promise.all(Array.from({ length: 9 }, (_, i) => api.level({ sku: `S${i}` })));
    // Sent at once on separate connections: they may arrive in any order.
    expect(a.paths.slice(before).sort()).toEqual(['/internal/contracts/warehouse/level', ...Array(2).fill('/internal/contracts/warehouse/level/batch')]);
    await api.level({ sku: 'alone' });
    expect(a.paths.at(-1)).toBe('/internal/contracts/warehouse/level');
  });

  it('gives each call its own typed error, leaving the others’ outputs alone', async () => {
    const api = client(a.url);
    await api.level({ sku: 'warm' });
    const [ok, missing, bad] = await Promise.allSettled([api.level({ sku: 'A' }), api.level({ sku: 'NOPE' }), api.badOutput({})]);
    expect(ok).toEqual({ status: 'fulfilled', value: { sku: 'A', reserved: 1 } });
    expect(missing.status === 'rejected' && missing.reason).toBeInstanceOf(UnknownSku);
    expect(missing.status === 'rejected' && missing.reason).toMatchObject({ code: 'UnknownSku', status: 404, details: { sku: 'NOPE' } });
    expect(bad.status === 'rejected' && bad.reason).toBeInstanceOf(ContractViolation);
  });

  it('keeps each call’s request id, and batches only calls made for the same end user', async () => {
    const api = client(a.url);
    const as = (requestId: string, sub: string, scopes: string[]) => <T>(fn: () => Promise<T>) => runWithContext({ requestId, correlationId: requestId, caller: { sub, scopes } }, fn);
    await as('warm', 'alice', ['read'])(() => api.level({ sku: 'warm' }));
    const before = a.paths.length;
    const [r1, r2, alice, bob, denied] = await Promise.allSettled([
      as('req-1', 'alice', ['read'])(() => api.level({ sku: 'R1' })),
      as('req-2', 'alice', ['read'])(() => api.level({ sku: 'R2' })),
      as('req-3', 'alice', ['read'])(() => api.whoami({})),
      as('req-4', 'bob', ['admin'])(() => api.whoami({})),
      as('req-5', 'carol', [])(() => api.adminOnly({})),
    ]);
    expect([r1.status, r2.status]).toEqual(['fulfilled', 'fulfilled']);
    expect(a.seen.get('R1')).toBe('req-1');
    expect(a.seen.get('R2')).toBe('req-2');
    expect(alice).toEqual({ status: 'fulfilled', value: { sub: 'alice', scopes: ['read'] } });
    expect(bob).toEqual({ status: 'fulfilled', value: { sub: 'bob', scopes: ['admin'] } });
    expect(denied.status === 'rejected' && denied.reason).toBeInstanceOf(Forbidden);
    // alice's two level calls in one batch; every other call is alone with its end user.
    expect(a.paths.slice(before).sort()).toEqual(['/internal/contracts/warehouse/adminOnly', '/internal/contracts/warehouse/level/batch', '/internal/contracts/warehouse/whoami', '/internal/contracts/warehouse/whoami']);
  });

  it('sends a call the provider failed on inside a batch again on its own, with the single call’s retries', async () => {
    const api = client(a.url);
    await api.level({ sku: 'warm' });
    const before = a.paths.length;
    expect(await Promise.all([api.flaky({ key: 'b1', failures: 1 }), api.flaky({ key: 'b2', failures: 0 })])).toEqual([{ attempts: 2 }, { attempts: 1 }]);
    expect(a.paths.slice(before)).toEqual(['/internal/contracts/warehouse/flaky/batch', '/internal/contracts/warehouse/flaky']);
  });

  it('validates each input on the caller’s side, before any network', async () => {
    const api = client(a.url);
    const [ok, bad] = await Promise.allSettled([api.level({ sku: 'A' }), api.level({ sku: '' })]);
    expect(ok.status).toBe('fulfilled');
    expect(bad.status === 'rejected' && bad.reason).toBeInstanceOf(ValidationFailed);
  });

  it('never batches an operation that is not idempotent', async () => {
    const api = client(a.url);
    const before = a.paths.length;
    await Promise.all([api.reserve({ orderId: 'o1', sku: 'A', quantity: 1 }), api.reserve({ orderId: 'o2', sku: 'A', quantity: 1 })]);
    expect(a.paths.slice(before)).toEqual(['/internal/contracts/warehouse/reserve', '/internal/contracts/warehouse/reserve']);
  });
});

describe('the batch endpoint', () => {
  let a: Provider;
  beforeAll(async () => {
    a = await provider();
  });
  afterAll(() => a.close());
  const post = (operation: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${a.url}/internal/contracts/warehouse/${operation}/batch`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('refuses a batch without a service credential, or with one for another module, and runs no call', async () => {
    const before = a.seen.size;
    expect((await post('level', { calls: [{ input: { sku: 'NOAUTH' } }] })).status).toBe(401);
    const r = await post('level', { calls: [{ input: { sku: 'WRONG' } }] }, { authorization: `Bearer ${await callerCredentials.serviceToken('orders')}` });
    expect(r.status).toBe(403);
    expect(a.seen.size).toBe(before);
  });

  it('answers each call with its output or its problem, checking each input against the schema', async () => {
    const auth = { authorization: `Bearer ${await callerCredentials.serviceToken('warehouse')}` };
    const r = await post('level', { calls: [{ input: { sku: 'A' } }, { input: { sku: 42 } }, { input: { sku: 'NOPE' } }] }, auth);
    expect(r.status).toBe(200);
    const { results } = (await r.json()) as { results: any[] };
    expect(results[0]).toEqual({ output: { sku: 'A', reserved: 1 } });
    expect(results[1].problem).toMatchObject({ code: 'ValidationFailed', status: 400 });
    expect(results[2].problem).toMatchObject({ code: 'UnknownSku', status: 404, details: { sku: 'NOPE' } });
  });

  it('has no batch form for an operation that is not idempotent, and refuses a malformed batch', async () => {
    const auth = { authorization: `Bearer ${await callerCredentials.serviceToken('warehouse')}` };
    expect((await post('reserve', { calls: [{ input: { orderId: 'o', sku: 'A', quantity: 1 } }] }, auth)).status).toBe(404);
    expect((await post('level', { calls: [] }, auth)).status).toBe(400);
    expect((await post('level', { calls: Array(300).fill({ input: { sku: 'A' } }) }, auth)).status).toBe(400);
  });
});

describe('a callee without the batch form', () => {
  afterEach(() => {
    while (pools.length) pools.pop()!.close();
  });

  it('gets the calls one by one, and only single calls for a minute after its 404', async () => {
    const old = await provider({ batchForm: false });
    let t = 1_000_000;
    try {
      const api = client(old.url, { now: () => t });
      await api.level({ sku: 'warm' });
      const skus = ['A', 'BB', 'CCC'];
      expect(await Promise.all(skus.map((sku) => api.level({ sku })))).toEqual(skus.map((sku) => ({ sku, reserved: sku.length })));
      expect(batches(old)).toBe(1);
      await Promise.all(skus.map((sku) => api.level({ sku })));
      expect(batches(old)).toBe(1);
      t += 61_000;
      await Promise.all(skus.map((sku) => api.level({ sku })));
      expect(batches(old)).toBe(2);
      expect(old.paths.filter((p) => p === '/internal/contracts/warehouse/level')).toHaveLength(10);
    } finally {
      await old.close();
    }
  });
});

describe('a batch on the provider', () => {
  it('runs at most BATCH_CONCURRENCY of its calls at once, and answers every call in order', async () => {
    let inFlight = 0;
    let most = 0;
    const handlers = {
      ...stubWarehouseHandlers(new Map(), (sku) => sku.length),
      async sleep({ ms }: { ms: number }) {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, ms));
        inFlight--;
        if (ms === 13) throw new ValidationFailed('thirteen');
        return { slept: ms };
      },
    };
    const calls = Array.from({ length: BATCH_LIMIT }, (_, i) => ({ input: { ms: i % 20 } }));
    const results = await runBatch({ contract: warehouseContract, handlers: handlers as never, operation: 'sleep', calls, caller: undefined });
    expect(most).toBe(BATCH_CONCURRENCY);
    expect(results).toHaveLength(BATCH_LIMIT);
    results.forEach((r, i) => expect(r, `call ${i}`).toEqual(i % 20 === 13 ? { problem: expect.objectContaining({ code: 'ValidationFailed', detail: 'thirteen' }) } : { output: { slept: i % 20 } }));
  });
});
