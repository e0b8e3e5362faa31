// SQLite plans a statement anew every time it runs when its plan used a bound parameter's value
// (decision 22, src/platform/data/planned-once.ts): a LIMIT bound as a parameter, and an equality
// on a bare parameter ahead of an ORDER BY. Every statement the app prepares on its SQLite stores
// while an order goes through, the saga poll runs, and its customer and an operator read what it
// left (history, notifications, the product list, the account) must avoid both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { bootApp, type TestApp } from '../support/boot.ts';
import { actors, settled } from '../domain/commerce-world.ts';
import { domainTestEnv } from '../domain/commerce-world.ts';
import { eventually } from '../support/eventually.ts';

const prepared = new Set<string>();
const original = Database.prototype.prepare;

describe('statements on the SQLite stores', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Patched before the stores open: their statement cache binds the prototype's prepare.
    Database.prototype.prepare = function (this: Database.Database, source: string) {
      prepared.add(source);
      return original.call(this, source);
    } as typeof original;
    t = await bootApp({ engine: 'sqlite', env: domainTestEnv });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    Database.prototype.prepare = original;
  });

  it('carry every LIMIT in their text, and no bare-parameter equality in a read that orders its rows', async () => {
    const a = await actors({ baseUrl: t.baseUrl, token: t.token });
    const sku = await a.product(700, 5);
    const { api } = await a.customer();
    const placed = await api.post('/api/v1/orders', { items: [{ sku, quantity: 1 }] });
    expect(placed.status).toBe(202);
    // The product's long-poll, then what the customer and an operator read afterwards.
    expect((await api.get(`/api/v2/orders/${placed.body.id}?waitSeconds=10`)).status).toBe(200);
    expect((await settled(api, placed.body.id)).status).toBe('CONFIRMED');
    await eventually(async () => (await api.get('/api/v1/customers/me/orders?limit=5')).body.items.length === 1, 'history');
    await eventually(async () => (await api.get('/api/v1/customers/me/notifications?limit=5')).body.items.length > 0, 'notifications');
    expect((await api.get('/api/v1/products?limit=3')).status).toBe(200);
    expect((await api.get('/api/v1/accounts/me')).status).toBe(200);
    expect((await a.admin.get('/api/v1/notifications/operations?limit=5')).status).toBe(200);

    const selects = [...prepared].filter((s) => /^\s*select/i.test(s));
    // The flow did reach the stores' reads, paged ones among them.
    expect(selects.some((s) => /"orders"/.test(s) && /\blimit 1\b/i.test(s))).toBe(true);
    expect(selects.some((s) => /"order_history"/.test(s) && /\blimit 5\b/i.test(s))).toBe(true);
    expect(selects.some((s) => /"sagas"/.test(s) && /order by/i.test(s))).toBe(true);
    expect([...prepared].filter((s) => /\blimit\s+\?/i.test(s))).toEqual([]);
    // An equality on a bare parameter in a read that orders its rows (textEquals, a literal).
    expect(selects.filter((s) => /order by/i.test(s) && /(?<![<>!])=\s*\?/.test(s))).toEqual([]);
  });
});
