// The remote binding against a real HTTP endpoint on 127.0.0.1: what a caller sees is what it
// would see in-process (validation, typed errors, the end user), plus the network's policies.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CircuitState } from 'cockatiel';
import { SignJWT } from 'jose';
import { instancePool, type InstancePool } from './instance-pool.ts';
import { bindRemote, modulePolicies, type ResilienceOptions } from './remote-binding.ts';
import { serviceCredentials } from './service-credentials.ts';
import { runWithContext } from '../context/request-context.ts';
import { ContractViolation, Forbidden, ServiceUnavailable, ValidationFailed } from '../errors/domain-error.ts';
import { UnknownSku, warehouseContract } from '../../../test/fixtures/modules/warehouse/index.ts';
import { stubWarehouseHandlers } from '../../../test/fixtures/modules/warehouse/stub-handlers.ts';
import { callerCredentials, STUB_SERVICE_SECRET, stubProvider, type StubProvider } from '../../../test/fixtures/modules/warehouse/stub-provider.ts';
import { eventually } from '../../../test/support/eventually.ts';

const secret = STUB_SERVICE_SECRET;

interface Provider extends StubProvider {
  /** Requests that reached the provider. */
  readonly hits: number;
}

async function provider(port = 0, attempts = new Map<string, number>()): Promise<Provider> {
  const p = await stubProvider(stubWarehouseHandlers(attempts, () => 3), { port });
  return Object.defineProperty(p, 'hits', { get: () => p.paths.length }) as Provider;
}

const fast: ResilienceOptions = { timeoutMs: 1_000, retries: 2, backoffMs: 5, breakerFailures: 3, halfOpenAfterMs: 300, bulkhead: 16, bulkheadQueue: 16 };
const pools: InstancePool[] = [];

function client(instances: string[], options: Partial<ResilienceOptions> = {}) {
  const pool = instancePool({ module: 'warehouse', instances, maxSockets: 8 });
  pools.push(pool);
  const policies = modulePolicies('warehouse', { ...fast, ...options });
  return { api: bindRemote(warehouseContract, { pool, policies, credentials: callerCredentials }), policies };
}

async function closedPort(): Promise<number> {
  const p = await provider();
  await p.close();
  return p.port;
}

describe('a remote contract behaves like the in-process one', () => {
  let a: Provider;
  beforeAll(async () => {
    a = await provider();
  });
  afterAll(() => a.close());
  afterEach(() => {
    while (pools.length) pools.pop()!.close();
  });

  it('validates the output and answers the provider’s value', async () => {
    expect(await client([a.url]).api.level({ sku: 'TEA' })).toEqual({ sku: 'TEA', reserved: 3 });
  });

  it('rejects a bad input on the caller’s side with ValidationFailed, before any network', async () => {
    const before = a.hits;
    await expect(client([a.url]).api.reserve({ orderId: '', sku: 'A', quantity: 0 })).rejects.toBeInstanceOf(ValidationFailed);
    expect(a.hits).toBe(before);
  });

  it('rebuilds the provider’s domain error as the same class, with its details', async () => {
    const err = await client([a.url]).api.level({ sku: 'NOPE' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownSku);
    expect(err).toMatchObject({ code: 'UnknownSku', status: 404, details: { sku: 'NOPE' } });
  });

  it('reports a provider answering outside its schema as ContractViolation, not as an outage', async () => {
    const { api, policies } = client([a.url], { breakerFailures: 1 });
    await expect(api.badOutput({})).rejects.toBeInstanceOf(ContractViolation);
    expect(policies.breaker.state).toBe(CircuitState.Closed);
  });

  it('carries the end user separately, so the provider checks scopes again', async () => {
    const { api } = client([a.url]);
    const as = (sub: string, scopes: string[]) => <T>(fn: () => Promise<T>) => runWithContext({ requestId: 'r1', correlationId: 'c1', caller: { sub, scopes } }, fn);
    expect(await as('alice', ['read'])(() => api.whoami({}))).toEqual({ sub: 'alice', scopes: ['read'] });
    expect(await api.whoami({})).toEqual({ sub: null, scopes: [] });
    await expect(as('alice', [])(() => api.adminOnly({}))).rejects.toBeInstanceOf(Forbidden);
    expect(await as('root', ['admin'])(() => api.adminOnly({}))).toEqual({ ok: true });
  });
});

describe('internal endpoints accept only service credentials', () => {
  let a: Provider;
  beforeAll(async () => {
    a = await provider();
  });
  afterAll(() => a.close());
  const call = (headers: Record<string, string>) =>
    fetch(`${a.url}/internal/contracts/warehouse/level`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ input: { sku: 'A' } }) });
  const token = (claims: Record<string, unknown>, aud: string, lifetime = 30, iatOffset = 0) => {
    const iat = Math.floor(Date.now() / 1000) + iatOffset;
    return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('monolith').setSubject('monolith').setAudience(aud).setIssuedAt(iat).setExpirationTime(iat + lifetime).sign(new TextEncoder().encode(secret));
  };

  it('answers 401 problem+json without a credential', async () => {
    const r = await call({});
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect(((await r.json()) as { code: string }).code).toBe('ServiceUnauthenticated');
  });

  it('answers 403 for a credential meant for another module', async () => {
    const r = await call({ authorization: `Bearer ${await callerCredentials.serviceToken('orders')}` });
    expect(r.status).toBe(403);
    expect(((await r.json()) as { code: string }).code).toBe('ServiceForbidden');
  });

  it('answers 401 for an expired credential, one living longer than 60 s, one signed with another key, or an end-user token', async () => {
    const expired = await token({ kind: 'service' }, 'warehouse', 30, -120);
    const tooLong = await token({ kind: 'service' }, 'warehouse', 3600);
    const otherKey = await serviceCredentials({ secret: 'another-secret-0123456789-abcdefghijklmn', deployable: 'monolith' }).serviceToken('warehouse');
    const userToken = await callerCredentials.endUserToken({ sub: 'alice', scopes: ['admin'] }, 'warehouse');
    for (const t of [expired, tooLong, otherKey, userToken]) {
      const r = await call({ authorization: `Bearer ${t}` });
      expect(r.status).toBe(401);
    }
  });

  it('answers with a valid credential', async () => {
    const r = await call({ authorization: `Bearer ${await callerCredentials.serviceToken('warehouse')}` });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ output: { sku: 'A', reserved: 3 } });
  });
});

describe('resilience per remote module: timeout, retry, breaker, bulkhead', () => {
  afterEach(() => {
    while (pools.length) pools.pop()!.close();
  });

  it('retries an idempotent operation through transient failures', async () => {
    const a = await provider();
    try {
      expect(await client([a.url]).api.flaky({ key: 'k1', failures: 2 })).toEqual({ attempts: 3 });
    } finally {
      await a.close();
    }
  });

  it('never retries an operation that is not idempotent', async () => {
    const attempts = new Map<string, number>();
    const a = await provider(0, attempts);
    try {
      await expect(client([a.url]).api.flakyOnce({ key: 'k2', failures: 1 })).rejects.toBeInstanceOf(ServiceUnavailable);
      expect(attempts.get('k2')).toBe(1);
    } finally {
      await a.close();
    }
  });

  it('gives up on a slow answer after the timeout with ServiceUnavailable', async () => {
    const a = await provider();
    try {
      const err = await client([a.url], { timeoutMs: 100, retries: 0 }).api.sleep({ ms: 2_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServiceUnavailable);
      expect((err as Error).message).toMatch(/did not answer/);
    } finally {
      await a.close();
    }
  });

  it('spreads calls over instances and skips one that refuses connections', async () => {
    const a = await provider();
    const b = await provider();
    const dead = `http://127.0.0.1:${await closedPort()}`;
    try {
      const { api } = client([a.url, dead, b.url], { retries: 0 });
      const [ha, hb] = [a.hits, b.hits];
      for (let i = 0; i < 12; i++) expect(await api.reserve({ orderId: `o${i}`, sku: 'A', quantity: 1 })).toMatchObject({ reserved: 1 });
      expect(a.hits - ha).toBeGreaterThanOrEqual(4);
      expect(b.hits - hb).toBeGreaterThanOrEqual(4);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('keeps working over fresh connections after the provider restarts on the same address', async () => {
    const a = await provider();
    const { api } = client([a.url], { retries: 0 });
    const burst = (tag: string) =>
      Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? api.level({ sku: 'A' }) : api.reserve({ orderId: `${tag}${i}`, sku: 'A', quantity: 1 }))),
      );
    // Several pooled keep-alive sockets, all closed under the client when the provider goes away.
    expect(await burst('before')).toHaveLength(8);
    await a.close();
    const b = await provider(a.port);
    try {
      // No retries: neither a reading nor a non-idempotent call may land on a dead pooled socket.
      expect(await burst('after')).toHaveLength(8);
      expect(b.hits).toBe(8);
    } finally {
      await b.close();
    }
  });

  it('limits calls in flight with a bulkhead and refuses the overflow as ServiceUnavailable', async () => {
    const a = await provider();
    try {
      const { api } = client([a.url], { bulkhead: 1, bulkheadQueue: 0 });
      const first = api.sleep({ ms: 300 });
      const err = await api.sleep({ ms: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServiceUnavailable);
      expect((err as Error).message).toMatch(/overloaded/);
      await first;
    } finally {
      await a.close();
    }
  });

  it('opens the breaker on a dead module, fails fast, and closes it through half-open when the module is back', async () => {
    const port = await closedPort();
    const { api, policies } = client([`http://127.0.0.1:${port}`], { retries: 0, breakerFailures: 3, halfOpenAfterMs: 200 });
    const states: CircuitState[] = [];
    policies.breaker.onStateChange((s) => states.push(s));
    for (let i = 0; i < 3; i++) await expect(api.level({ sku: 'A' })).rejects.toBeInstanceOf(ServiceUnavailable);
    expect(policies.breaker.state).toBe(CircuitState.Open);
    const open = await api.level({ sku: 'A' }).catch((e: unknown) => e);
    expect(open).toBeInstanceOf(ServiceUnavailable);
    expect((open as Error).message).toMatch(/circuit open/);

    const back = await provider(port);
    try {
      await eventually(async () => (await api.level({ sku: 'A' })).reserved === 3, 'breaker to let a call through', 5_000, 50);
      expect(policies.breaker.state).toBe(CircuitState.Closed);
      expect(states).toEqual([CircuitState.Open, CircuitState.HalfOpen, CircuitState.Closed]);
    } finally {
      await back.close();
    }
  });
});
