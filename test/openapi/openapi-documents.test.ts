// Every deployable's OpenAPI documents, fetched from the running listeners: the monolith's and an
// extracted payments service's public and internal documents, and the proxy's document of what it
// routes. Each must be a valid OpenAPI 3.1 document, and say what the routes and contracts do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { bootApp, type TestApp } from '../support/boot.ts';
import { redisUrl } from '../support/databases.ts';
import { busPrefix } from '../support/redis.ts';
import { proxyWith } from '../../proxy/test/helpers.ts';
import type { RunningProxy } from '../../proxy/src/proxy-server.ts';
import { catalogContract } from '../../src/modules/catalog/index.ts';
import { inventoryContract } from '../../src/modules/inventory/index.ts';
import { paymentsContract } from '../../src/modules/payments/index.ts';
import { responseChecker } from './response-conformance.ts';

type Doc = Record<string, any>;

let monolith: TestApp;
let service: TestApp;
let proxy: RunningProxy;
const bus = busPrefix();
const docs: Record<string, Doc> = {};

const fetchDoc = async (url: string): Promise<Doc> => {
  const res = await fetch(`${url}/openapi.json`);
  expect(res.status, url).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as Doc;
};

beforeAll(async () => {
  monolith = await bootApp({ engine: 'sqlite' });
  service = await bootApp({ engine: 'sqlite', modules: ['payments'], deployable: 'payments-service', env: { BUS: 'bullmq', REDIS_URL: redisUrl(), BUS_PREFIX: bus.prefix } });
  proxy = await proxyWith({
    pools: { monolith: { instances: [monolith.baseUrl] }, payments: { instances: [service.baseUrl] } },
    routes: [{ name: 'accounts', prefix: '/api/v1/accounts', old: 'monolith', new: 'payments', weight: 100 }],
  });
  docs['monolith public'] = await fetchDoc(monolith.baseUrl);
  docs['monolith internal'] = await fetchDoc(monolith.internalUrl);
  docs['payments-service public'] = await fetchDoc(service.baseUrl);
  docs['payments-service internal'] = await fetchDoc(service.internalUrl);
  docs['proxy'] = await fetchDoc(proxy.url);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await service?.close();
  await monolith?.close();
  await bus.cleanup();
});

const operations = (doc: Doc) => Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
const codes = (doc: Doc, path: string, method: string, status: number): string[] =>
  doc.paths[path][method].responses[status].content['application/problem+json'].schema.allOf[1].properties.code.enum;

describe('OpenAPI documents', () => {
  it.each(['monolith public', 'monolith internal', 'payments-service public', 'payments-service internal', 'proxy'])('the %s document is valid OpenAPI 3.1', async (name) => {
    const result = await new Validator().validate(structuredClone(docs[name]!));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(docs[name]!.openapi).toMatch(/^3\.1\./);
  });

  it('the validator refuses a document that is not OpenAPI', async () => {
    const broken = structuredClone(docs['monolith public']!);
    delete broken.info;
    broken.paths['/api/v1/orders'].post.responses = 'none';
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('documents every public route of the monolith, each behind the bearer JWT', () => {
    const doc = docs['monolith public']!;
    expect(operations(doc).filter((o) => o.includes('/api/')).sort()).toEqual(
      [
        'GET /api/v1/products', 'GET /api/v1/products/{sku}', 'POST /api/v1/products', 'PATCH /api/v1/products/{sku}',
        'GET /api/v1/inventory/{sku}', 'POST /api/v1/inventory/{sku}/restock',
        'POST /api/v1/orders', 'GET /api/v1/orders/{id}', 'GET /api/v2/orders/{id}', 'GET /api/v1/customers/me/orders',
        'GET /api/v1/accounts/me', 'GET /api/v1/customers/me/notifications', 'GET /api/v1/notifications/operations',
      ].sort(),
    );
    expect(doc.components.securitySchemes.bearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }));
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      if (!path.startsWith('/api/')) continue;
      for (const op of Object.values(item)) {
        expect(op.security).toEqual([{ bearer: [] }]);
        expect(op.responses[401].content['application/problem+json']).toBeDefined();
      }
    }
    expect(doc.paths['/api/v1/products'].post['x-required-scope']).toBe('admin');
    expect(codes(doc, '/api/v1/products', 'post', 403)).toContain('Forbidden');
  });

  it('describes requests with the schemas that validate them, and errors as problems with their codes', () => {
    const doc = docs['monolith public']!;
    const place = doc.paths['/api/v1/orders'].post;
    const body = place.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['items']);
    expect(body.properties.items).toMatchObject({ type: 'array', minItems: 1, maxItems: 50 });
    expect(body.properties.paymentMethod).toMatchObject({ enum: ['tok_ok', 'tok_decline', 'tok_fail', 'tok_slow'], default: 'tok_ok' });
    expect(body.additionalProperties).toBe(false);
    expect(place.responses[202].headers.Location).toBeDefined();
    expect(codes(doc, '/api/v1/orders', 'post', 422)).toEqual(expect.arrayContaining(['UnknownProducts', 'UnpriceableOrder', 'IdempotencyKeyReused']));
    expect(codes(doc, '/api/v1/orders', 'post', 400)).toEqual(expect.arrayContaining(['ValidationFailed', 'MalformedJson']));
    expect(codes(doc, '/api/v1/products/{sku}', 'get', 404)).toEqual(['ProductNotFound']);
    expect(doc.components.schemas.Problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'code']));
  });

  it('names the Idempotency-Key header on every write, and the replay header on its answers', () => {
    const doc = docs['monolith public']!;
    for (const [path, method] of [['/api/v1/orders', 'post'], ['/api/v1/products', 'post'], ['/api/v1/inventory/{sku}/restock', 'post']] as const) {
      const op = doc.paths[path][method];
      expect(op.parameters.find((p: any) => p.name === 'Idempotency-Key'), `${method} ${path}`).toMatchObject({ in: 'header', schema: { pattern: '^[A-Za-z0-9._:-]{1,200}$' } });
      const ok = Object.entries(op.responses).find(([s]) => s.startsWith('2'))![1] as any;
      expect(ok.headers['Idempotent-Replayed']).toBeDefined();
    }
    expect(doc.paths['/api/v1/products'].get.parameters.some((p: any) => p.name === 'Idempotency-Key')).toBe(false);
  });

  it('marks v1 of a versioned resource deprecated, with its Deprecation and Sunset headers', () => {
    const doc = docs['monolith public']!;
    const v1 = doc.paths['/api/v1/orders/{id}'].get;
    expect(v1.deprecated).toBe(true);
    expect(Object.keys(v1.responses[200].headers)).toEqual(expect.arrayContaining(['Deprecation', 'Sunset', 'Link']));
    expect(doc.paths['/api/v2/orders/{id}'].get.deprecated).toBeUndefined();
  });

  it('documents cursor pagination: after and limit in, nextCursor out', () => {
    const list = docs['monolith public']!.paths['/api/v1/products'].get;
    const params = Object.fromEntries(list.parameters.map((p: any) => [p.name, p]));
    expect(params.after).toMatchObject({ in: 'query', required: false });
    expect(params.limit).toMatchObject({ in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } });
    const page = list.responses[200].content['application/json'].schema;
    expect(page.required).toEqual(expect.arrayContaining(['items', 'nextCursor']));
    expect(JSON.stringify(page.properties.nextCursor)).toContain('"type":"null"');
    expect(page.properties.nextCursor.description).toMatch(/after/);
  });

  it('documents each served contract operation on the internal port, from the contract definitions', () => {
    const internal = docs['monolith internal']!;
    for (const contract of [catalogContract, inventoryContract, paymentsContract]) {
      for (const op of Object.keys(contract.operations)) expect(internal.paths[`/internal/contracts/${contract.name}/${op}`]?.post, `${contract.name}.${op}`).toBeDefined();
    }
    const charge = internal.paths['/internal/contracts/payments/charge'].post;
    expect(charge.requestBody.content['application/json'].schema.properties.input.required).toEqual(expect.arrayContaining(['orderId']));
    expect(charge.responses[200].content['application/json'].schema.properties.output).toBeDefined();
    expect(codes(internal, '/internal/contracts/payments/charge', 'post', 422)).toContain('PaymentDeclined');
    expect(codes(internal, '/internal/contracts/payments/charge', 'post', 401)).toContain('ServiceUnauthenticated');
    expect(charge.security).toEqual([{ serviceToken: [] }]);
    // The batch form of an idempotent operation (every operation of these contracts is).
    expect(internal.paths['/internal/contracts/catalog/getProduct/batch']?.post.requestBody.content['application/json'].schema.properties.calls.items.properties.input).toBeDefined();
    // The public document says nothing internal, and the other way round.
    expect(operations(docs['monolith public']!).some((o) => o.includes('/internal/'))).toBe(false);
    expect(operations(internal).some((o) => o.includes('/api/'))).toBe(false);
    // A service documents only what it runs.
    expect(operations(docs['payments-service internal']!).every((o) => o.includes('/internal/contracts/payments/'))).toBe(true);
    expect(operations(docs['payments-service public']!).filter((o) => o.includes('/api/'))).toEqual(['GET /api/v1/accounts/me']);
  });

  it('the proxy documents what it routes, each path from the pool it sends it to', () => {
    const doc = docs['proxy']!;
    expect(doc.paths['/api/v1/accounts/me'].get['x-pool']).toBe('payments');
    expect(doc.paths['/api/v1/orders'].post['x-pool']).toBe('monolith');
    expect(doc.paths['/api/v1/orders'].post.responses[502]).toBeDefined();
    expect(operations(doc).filter((o) => o.includes('/api/')).length).toBe(operations(docs['monolith public']!).filter((o) => o.includes('/api/')).length);
  });

  it('the response checker refuses an answer its document does not describe', () => {
    const check = responseChecker(docs['monolith public']!);
    expect(check.check('GET', '/api/v1/products/X-1', 200, 'application/json', { sku: 'X-1', name: 'n', description: '', priceMinor: 1, currency: 'EUR', version: 1, updatedAt: 't' })).toBeUndefined();
    expect(check.check('GET', '/api/v1/products/X-1', 200, 'application/json', { sku: 'X-1' })).toMatch(/does not match/);
    expect(check.check('GET', '/api/v1/products/X-1', 418, 'application/json', {})).toMatch(/does not document/);
    expect(check.check('GET', '/api/v1/products/X-1', 404, 'application/problem+json', { type: '/problems/x', title: 'Not Found', status: 404, code: 'Teapot' })).toMatch(/does not match/);
    expect(check.check('GET', '/api/v1/nothing', 200, 'application/json', {})).toMatch(/no such path/);
  });
});
