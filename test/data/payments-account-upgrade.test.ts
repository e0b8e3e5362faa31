// An account written by the version before per-order reads (migration 0000: no index by order,
// snapshots of the whole account state) keeps working after the upgrade, and so do events the
// earlier version goes on writing beside the new one during a rolling upgrade: an order's events
// are read by the order id inside them (an expression index), and the old snapshots are not read.
import { afterEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { bootApp, engines, type TestApp } from '../support/boot.ts';
import { createTestDatabase } from '../support/databases.ts';
import { schemaBefore } from '../support/earlier-migrations.ts';
import { testKeysEnv } from '../support/keys.ts';
import { loadConfig } from '../../src/platform/config/env.ts';
import { migrateModules } from '../../src/platform/data/migrate.ts';
import { sqliteFile } from '../../src/platform/data/sqlite-store.ts';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import { paymentsContract } from '../../src/modules/payments/index.ts';
import { paymentsSchema, type PaymentsTables } from '../../src/modules/payments/db/schema.ts';

/** The payments schema as its first migration left it (migration 0000 only). */
const firstMigrationOnly = (scratch: string) => schemaBefore(paymentsSchema, scratch, 1);

const old = {
  account: 'old-customer',
  events: [
    { version: 1, type: 'AccountOpened', data: { type: 'AccountOpened', customerId: 'old-customer' } },
    { version: 2, type: 'PaymentCaptured', data: { type: 'PaymentCaptured', orderId: 'old-1', amountMinor: 500, currency: 'EUR', providerRef: 'pay_old_1' } },
    { version: 3, type: 'PaymentCaptured', data: { type: 'PaymentCaptured', orderId: 'old-2', amountMinor: 700, currency: 'EUR', providerRef: 'pay_old_2' } },
  ],
  // What the earlier version snapshotted: the whole state, every payment in it (its totals wrong
  // on purpose: a new version that read it would answer them).
  snapshot: { customerId: 'old-customer', opened: true, capturedMinor: 999_999, refundedMinor: 0, payments: { 'old-1': { status: 'captured' }, 'old-2': { status: 'captured' } } },
};
const at = new Date('2026-01-01T00:00:00Z');

/** Writes as the earlier version did: an event row (no order index of its own), or a whole-state snapshot at version 3. */
async function olderWriter(engine: string, env: Record<string, string>, e?: { version: number; type: string; data: unknown }, snapshot?: unknown) {
  const [table, row] = e
    ? ['account_events (account_id, version, type, data, occurred_at)', [old.account, e.version, e.type, e.data, at]]
    : ['account_snapshots (account_id, version, state, last_event_at)', [old.account, 3, snapshot, at]];
  if (engine === 'sqlite') {
    const db = new Database(sqliteFile(env.DATA_DIR!, 'payments'));
    db.pragma('busy_timeout = 5000');
    const values = row.map((v) => (v instanceof Date ? v.getTime() : typeof v === 'object' ? JSON.stringify(v) : v));
    db.prepare(`INSERT INTO ${table} VALUES (${values.map(() => '?').join(', ')})`).run(...values);
    db.close();
    return;
  }
  const c = new pg.Client({ connectionString: env.DATABASE_URL });
  await c.connect();
  await c.query(`INSERT INTO payments.${table} VALUES (${row.map((_, i) => `$${i + 1}`).join(', ')})`, row);
  await c.end();
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.each(engines)('payment accounts written before per-order reads, on %s', (engine) => {
  it('refunds, recharges and sums an account the earlier version wrote', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'payments-upgrade-'));
    cleanups.push(() => rmSync(scratch, { recursive: true, force: true }));
    const before = firstMigrationOnly(join(scratch, 'migrations'));
    let store: { env: Record<string, string>; cleanup: () => Promise<void> };

    if (engine === 'sqlite') {
      const env = { DATA_DIR: join(scratch, 'data') };
      await migrateModules([before], loadConfig({ ...testKeysEnv, ...env, LOG_LEVEL: 'silent' }));
      store = { env, cleanup: async () => {} };
    } else {
      const database = await createTestDatabase();
      cleanups.push(database.drop);
      const env = { DATABASE_URL: database.url };
      await migrateModules([before], loadConfig({ ...testKeysEnv, ...env, LOG_LEVEL: 'silent' }));
      store = { env, cleanup: async () => {} };
    }
    for (const e of old.events) await olderWriter(engine, store.env, e);
    await olderWriter(engine, store.env, undefined, old.snapshot);
    // The upgrade: `npm run migrate` before the new version starts (on SQLite the app runs it at start).
    if (engine === 'pg') await migrateModules([paymentsSchema], loadConfig({ ...testKeysEnv, ...store.env, LOG_LEVEL: 'silent' }));

    // On SQLite the app applies the pending migration itself at start. A summary every 3 events.
    const t: TestApp = await bootApp({ engine, modules: ['payments'], store, env: { SNAPSHOT_EVERY: '3' } });
    cleanups.push(() => t.close());
    const payments = t.app.contract(paymentsContract);
    const s = t.app.stores.get('payments') as ModuleStore<PaymentsTables>;

    expect(await payments.refund({ orderId: 'old-1', customerId: old.account })).toEqual({ orderId: 'old-1', status: 'refunded' });
    // Charged before the upgrade: charging again answers the earlier capture and records nothing.
    expect(await payments.charge({ orderId: 'old-2', customerId: old.account, amountMinor: 700, currency: 'EUR', paymentMethod: 'tok_ok' })).toEqual({ orderId: 'old-2', status: 'captured', providerRef: 'pay_old_2' });
    expect(await payments.getAccount({ customerId: old.account })).toMatchObject({ capturedMinor: 1200, refundedMinor: 500, netMinor: 700, payments: 2, version: 4 });
    // The refund's load replayed the whole stream (no summary yet): it left one at its version.
    const summaries = await s.db.select().from(s.tables.snapshots).where(eq(s.tables.snapshots.accountId, old.account));
    expect(summaries.map((r) => [r.version, r.state])).toEqual([[4, { customerId: old.account, opened: true, capturedMinor: 1200, refundedMinor: 500, payments: 2 }]]);

    // The earlier version, still running beside this one, records a capture its own way.
    await olderWriter(engine, store.env, { version: 5, type: 'PaymentCaptured', data: { type: 'PaymentCaptured', orderId: 'old-3', amountMinor: 300, currency: 'EUR', providerRef: 'pay_old_3' } });
    expect(await payments.refund({ orderId: 'old-3', customerId: old.account })).toEqual({ orderId: 'old-3', status: 'refunded' });
    expect(await payments.getAccount({ customerId: old.account })).toMatchObject({ capturedMinor: 1500, refundedMinor: 800, payments: 3, version: 6 });
    const after = await s.db.select().from(s.tables.accountEvents).orderBy(s.tables.accountEvents.version);
    expect(after.map((r) => [r.type, 'orderId' in r.data ? r.data.orderId : null])).toEqual([
      ['AccountOpened', null],
      ['PaymentCaptured', 'old-1'],
      ['PaymentCaptured', 'old-2'],
      ['PaymentRefunded', 'old-1'],
      ['PaymentCaptured', 'old-3'],
      ['PaymentRefunded', 'old-3'],
    ]);
  });
});

describe('the order index on a large Postgres table', () => {
  it('can be built beforehand without blocking writes (CONCURRENTLY); the migration then skips it', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'payments-upgrade-'));
    cleanups.push(() => rmSync(scratch, { recursive: true, force: true }));
    const database = await createTestDatabase();
    cleanups.push(database.drop);
    const env = { DATABASE_URL: database.url };
    await migrateModules([firstMigrationOnly(join(scratch, 'migrations'))], loadConfig({ ...testKeysEnv, ...env, LOG_LEVEL: 'silent' }));
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    cleanups.push(() => c.end());
    // What an operator runs ahead of `npm run migrate` (outside any transaction, as CONCURRENTLY must).
    await c.query(`CREATE INDEX CONCURRENTLY account_events_order_idx ON payments.account_events USING btree (account_id, (data->>'orderId'))`);
    await migrateModules([paymentsSchema], loadConfig({ ...testKeysEnv, ...env, LOG_LEVEL: 'silent' }));
    const indexes = await c.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'payments' AND indexname = 'account_events_order_idx'`);
    expect(indexes.rows).toHaveLength(1);
    expect(indexes.rows[0]!.indexdef).toContain(`(data ->> 'orderId'::text)`);
    const summaries = await c.query(`SELECT to_regclass('payments.account_summaries') AS t`);
    expect(summaries.rows[0].t).toBe('payments.account_summaries');
  });
});
