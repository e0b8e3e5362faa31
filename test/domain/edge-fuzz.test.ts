// Property-based edge fuzzing, generated from the route tables of the deployables themselves (the
// monolith and an extracted service, on both their listeners): respelled and adversarial paths
// (case, percent-encoding good and bad, dots, doubled slashes, long segments), odd headers and
// content types, and bodies that are deep, huge, of the wrong type or full of control characters.
// Whatever arrives: no 5xx, every refusal a problem+json with `code` and `requestId`, the process
// alive, and a request repeated with the same Idempotency-Key has no second effect.
// A fixed seed keeps CI repeatable; EDGE_FUZZ_RUNS and FC_SEED widen it (`npm run fuzz`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { count, eq, isNull } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { bootApp, type TestApp } from '../support/boot.ts';
import { eventually } from '../support/eventually.ts';
import { busPrefix } from '../support/redis.ts';
import { redisUrl } from '../support/databases.ts';
import { TEST_JWT_SECRET } from '../support/keys.ts';
import { routeTable, type RouteEntry } from '../support/route-table.ts';
import { actors, domainTestEnv } from './commerce-world.ts';

const RUNS = Number(process.env.EDGE_FUZZ_RUNS ?? 250);
const SEED = Number(process.env.FC_SEED ?? 20261130);

interface Target {
  name: string;
  boot(): Promise<{ t: TestApp; cleanup?: () => Promise<void> }>;
}

const targets: Target[] = [
  { name: 'the monolith', boot: async () => ({ t: await bootApp({ engine: 'sqlite', env: domainTestEnv }) }) },
  {
    name: 'the catalog as an extracted service',
    boot: async () => {
      const bus = busPrefix();
      const t = await bootApp({ engine: 'sqlite', modules: ['catalog'], deployable: 'catalog-service', env: { BUS: 'bullmq', REDIS_URL: redisUrl(), BUS_PREFIX: bus.prefix } });
      return { t, cleanup: bus.cleanup };
    },
  },
];

const sign = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(TEST_JWT_SECRET));

/** A value for a path parameter: plausible, hostile, or broken. */
const paramValue = (good: string) =>
  fc.oneof(
    { arbitrary: fc.constant(good), weight: 6 },
    fc.constant(good.toLowerCase()),
    fc.uuid(),
    fc.string({ maxLength: 12 }).map(encodeURIComponent),
    fc.constantFrom('%ZZ', '%E0%A4%A', '%', '%00', '%2F', '%252F', '..', '.', 'a%2Fb', '%C0%AF'),
    fc.string({ minLength: 200, maxLength: 3000 }).map((s) => encodeURIComponent(s)),
    fc.string({ unit: 'binary', maxLength: 8 }).map(encodeURIComponent),
  );

/** Another spelling of the same path: what must never pass for a different resource. */
const respell = (path: string) =>
  fc.constantFrom(
    path,
    path.toUpperCase(),
    `${path}/`,
    path.replace('/', '//'),
    path.replace(/\/([a-z])/, (_m, c: string) => `/%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    path.replace(/\/([^/]+)$/, '/./$1'),
    path.replace(/\/([^/]+)$/, '/x/../$1'),
    path.replace(/\/([a-z])/, (_m, c: string) => `/%25${c.charCodeAt(0).toString(16)}`),
  );

function concretePath(pattern: string, good: Record<string, string>) {
  const names = [...pattern.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  return fc.tuple(...names.map((n) => paramValue(good[n] ?? 'X'))).map((values) => names.reduce((p, n, i) => p.replace(`:${n}`, values[i]!), pattern));
}

const deep = (depth: number) => `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
const bodyArb = fc.oneof(
  // Bodies a route accepts ($SKU is the target's real product), so writes happen and repeats are checked.
  { arbitrary: fc.integer({ min: 1, max: 5 }).map((q) => JSON.stringify({ items: [{ sku: '$SKU', quantity: q }] })), weight: 3 },
  { arbitrary: fc.integer({ min: 1, max: 50 }).map((q) => JSON.stringify({ quantity: q })), weight: 2 },
  { arbitrary: fc.stringMatching(/^[A-Z0-9]{4,10}$/).map((id) => JSON.stringify({ sku: `NEW-${id}`, name: 'A new thing', priceMinor: 100, currency: 'EUR' })), weight: 2 },
  { arbitrary: fc.constant(JSON.stringify({ name: 'Renamed' })), weight: 1 },
  fc.jsonValue({ maxDepth: 4 }).map((j) => JSON.stringify(j)),
  fc.record({ items: fc.array(fc.record({ sku: fc.string({ maxLength: 12 }), quantity: fc.integer({ min: -5, max: 2000 }) }), { maxLength: 60 }) }).map((j) => JSON.stringify(j)),
  fc.record({ sku: fc.string({ maxLength: 45 }), name: fc.string({ unit: 'binary', maxLength: 30 }), priceMinor: fc.integer({ min: -1, max: 2e9 }), currency: fc.constantFrom('EUR', 'eur', '') }).map((j) => JSON.stringify(j)),
  fc.integer({ min: 20, max: 5000 }).map(deep),
  fc.string({ maxLength: 30 }).map((s) => `{"name":"${s.replace(/["\\]/g, '')}\\u0000"}`),
  fc.constantFrom('', '{', 'null', '[]', '"str"', '{"input":{}}', '\u0000', '{"a":1}{"b":2}'),
  fc.integer({ min: 101, max: 400 }).map((kb) => JSON.stringify({ pad: 'x'.repeat(kb * 1024) })),
);
const contentTypeArb = fc.constantFrom('application/json', 'application/merge-patch+json', 'application/vnd.api+json', 'text/plain', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'APPLICATION/JSON', undefined);

describe.each(targets)('edge fuzzing of $name', (target) => {
  let t: TestApp;
  let cleanup: (() => Promise<void>) | undefined;
  let routes: { listener: 'public' | 'internal'; base: string; route: RouteEntry }[];
  let auth: Record<string, string | undefined>;
  let good: Record<string, string>;

  beforeAll(async () => {
    ({ t, cleanup } = await target.boot());
    const a = await actors({ baseUrl: t.baseUrl, token: t.token });
    const hasInventory = t.app.stores.has('inventory');
    const sku = hasInventory ? await a.product(300, 1_000_000) : 'FUZZ-1';
    if (!hasInventory) await a.admin.post('/api/v1/products', { sku, name: 'Fuzz', priceMinor: 300, currency: 'EUR' });
    good = { sku, id: '00000000-0000-7000-8000-000000000000', module: 'catalog', operation: 'getProduct' };
    auth = {
      none: undefined,
      customer: `Bearer ${await t.token('fuzzer')}`,
      admin: `bearer ${await t.token('root', ['admin'])}`,
      eternal: `Bearer ${await sign({ sub: 'eternal' })}`,
      controlSub: `Bearer ${await sign({ sub: 'a\u0001b', exp: Math.floor(Date.now() / 1000) + 60 })}`,
      garbage: 'Bearer a.b.c',
      huge: `Bearer ${'a'.repeat(20_000)}`,
      basic: 'Basic dXNlcjpwYXNz',
    };
    routes = [
      ...routeTable(t.app.http).map((route) => ({ listener: 'public' as const, base: t.baseUrl, route })),
      ...routeTable(t.app.internal).map((route) => ({ listener: 'internal' as const, base: t.internalUrl, route })),
    ];
  });
  afterAll(async () => {
    await t?.close();
    await cleanup?.();
  });

  /** Row counts of every table of every hosted module: what a request could change. */
  async function fingerprint(): Promise<string> {
    const parts: string[] = [];
    for (const [name, store] of t.app.stores) {
      for (const [tableName, table] of Object.entries(store.tables)) {
        if (tableName === 'inbox') continue;
        const [row] = await store.db.select({ n: count() }).from(table as never);
        parts.push(`${name}.${tableName}=${(row as unknown as { n: number }).n}`);
      }
    }
    return parts.join(' ');
  }

  async function quiet(): Promise<void> {
    await eventually(async () => {
      const orders = t.app.stores.get('orders');
      if (orders) {
        const sagas = orders.tables.sagas as never as { done: never };
        const [busy] = await orders.db.select({ n: count() }).from(sagas as never).where(eq(sagas.done, false as never));
        if ((busy as unknown as { n: number }).n > 0) return false;
      }
      for (const store of t.app.stores.values()) {
        const [pending] = await store.db.select({ n: count() }).from(store.tables.outbox).where(isNull(store.tables.outbox.dispatchedAt));
        if ((pending as unknown as { n: number }).n > 0) return false;
      }
      return true;
    }, 'system quiet', 30_000);
  }

  it('never answers 5xx, refuses with problems that name the request, stays up, and does nothing twice for one key', async () => {
    expect(routes.length).toBeGreaterThan(4);
    const writes = routes.filter((x) => x.listener === 'public' && x.route.method === 'POST');
    // A well-formed write for a route, so that a share of the runs do change state and their
    // repetition with the same key is checked; the rest of the shape is left to chance below.
    const wellFormed = (pattern: string) =>
      pattern.endsWith('/orders')
        ? fc.integer({ min: 1, max: 5 }).map((q) => JSON.stringify({ items: [{ sku: '$SKU', quantity: q }] }))
        : pattern.endsWith('/restock')
          ? fc.integer({ min: 1, max: 50 }).map((q) => JSON.stringify({ quantity: q }))
          : fc.stringMatching(/^[A-Z0-9]{4,10}$/).map((id) => JSON.stringify({ sku: `NEW-${id}`, name: 'A new thing', priceMinor: 100, currency: 'EUR' }));
    const header = fc.option(fc.constantFrom(['x-request-id', 'a'.repeat(500)], ['traceparent', 'garbage'], ['x-correlation-id', '\t'], ['accept-encoding', 'gzip;q=abc']), { nil: undefined });
    const anything = fc.record({
      // Writes weigh more: they are where a repeated key could do harm.
      entry: fc.oneof(fc.constantFrom(...routes), fc.constantFrom(...routes.filter((x) => x.route.method !== 'GET'))),
      method: fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'HEAD', 'OPTIONS')),
      auth: fc.oneof({ arbitrary: fc.constantFrom('customer', 'admin'), weight: 3 }, fc.constantFrom(...Object.keys(auth))),
      contentType: fc.oneof({ arbitrary: fc.constant('application/json'), weight: 3 }, contentTypeArb),
      body: fc.option(bodyArb, { nil: undefined, freq: 5 }),
      key: fc.option(fc.oneof(fc.uuid(), fc.string({ maxLength: 10 }), fc.constant('k'.repeat(300))), { nil: undefined }),
      extraHeader: header,
    });
    const aWrite = fc.constantFrom(...writes).chain((entry) =>
      fc.record({
        entry: fc.constant(entry),
        method: fc.constant(undefined),
        auth: fc.constant('admin'),
        contentType: fc.constant('application/json'),
        body: wellFormed(entry.route.path),
        key: fc.uuid(),
        extraHeader: header,
      }),
    );
    const request = fc
      .oneof(anything, aWrite)
      .chain((r) => concretePath(r.entry.route.path, good).chain((path) => respell(path).map((second) => ({ ...r, path, second }))));

    let before = '';
    let served = 0;
    let repeatsChecked = 0;
    await quiet();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const method = r.method ?? r.entry.route.method;
        const headers: Record<string, string> = {};
        const a = auth[r.auth];
        if (a) headers.authorization = a;
        if (r.contentType && r.body !== undefined) headers['content-type'] = r.contentType;
        if (r.key !== undefined) headers['idempotency-key'] = r.key;
        if (r.extraHeader) headers[r.extraHeader[0]] = r.extraHeader[1];
        const body = method === 'GET' || method === 'HEAD' ? undefined : r.body?.replaceAll('$SKU', good.sku!);
        const send = async (path: string) => {
          let res: Response;
          try {
            res = await fetch(`${r.entry.base}${path}`, { method, headers, body });
          } catch (err) {
            // fetch itself refuses a few things (a header value it will not send): not the server's answer.
            if (err instanceof TypeError && /header|Request/i.test(String((err as Error).message) + String((err as { cause?: Error }).cause?.message))) return undefined;
            throw err;
          }
          const text = method === 'HEAD' ? '' : await res.text();
          served++;
          const what = `${method} ${r.entry.listener}${path} [${r.auth}, ${headers['content-type'] ?? '-'}] → ${res.status} ${text.slice(0, 300)}`;
          expect(res.status, what).toBeLessThan(500);
          if (res.status >= 400 && method !== 'HEAD') {
            expect(res.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
            const p = JSON.parse(text) as { code?: string; requestId?: string };
            expect(p.code, what).toMatch(/^[A-Z][A-Za-z]+$/);
            expect(p.requestId, what).toBe(res.headers.get('x-request-id'));
          }
          return res;
        };
        if (!before) before = await fingerprint();
        const first = await send(r.path);
        const writes = method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
        if (!first || !writes) return;
        if (first.status >= 400) {
          expect(await fingerprint(), `${method} ${r.path} was refused but changed state`).toBe(before);
          return;
        }
        await quiet();
        const afterFirst = await fingerprint();
        if (r.key !== undefined) {
          // The same key again, on the same or another spelling of the path: a replay or a refusal, never a second effect.
          await send(r.second);
          await quiet();
          expect(await fingerprint(), `${method} ${r.second} repeated key ${r.key} had a second effect`).toBe(afterFirst);
          repeatsChecked++;
        }
        before = await fingerprint();
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    expect(served).toBeGreaterThanOrEqual(RUNS);
    console.log(`${target.name}: ${served} requests over ${routes.length} routes, ${repeatsChecked} writes repeated with their key`);
    expect(repeatsChecked).toBeGreaterThan(0);
    expect((await fetch(`${t.baseUrl}/health/live`)).status).toBe(200);
    expect((await fetch(`${t.internalUrl}/health/ready`)).status).toBe(200);
  }, 600_000);
});
