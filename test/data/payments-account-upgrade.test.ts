// An account written by the version before per-order reads (migration 0000: no order_id column,
// snapshots of the whole account state) keeps working after the upgrade: the order id of every
// old event is there to read by (a generated column), and the old snapshots are not read.
import { afterEach, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { bootApp, engines, type TestApp } from '../support/boot.ts';
import { createTestDatabase } from '../support/databases.ts';
import { testKeysEnv } from '../support/keys.ts';
import { loadConfig } from '../../src/platform/config/env.ts';
import { migrateModules } from '../../src/platform/data/migrate.ts';
import { sqliteFile } from '../../src/platform/data/sqlite-store.ts';
import type { ModuleSchema } from '../../src/platform/data/schema-kit.ts';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import { paymentsContract } from '../../src/modules/payments/index.ts';
import { paymentsSchema, type PaymentsTables } from '../../src/modules/payments/db/schema.ts';

/** The payments schema as its first migration left it: a copy of migrations/payments with 0000 only. */
function firstMigrationOnly(scratch: string): ModuleSchema {
  for (const dialect of ['sqlite', 'pg']) {
    const from = join(paymentsSchema.migrationsDir, dialect);
    const to = join(scratch, dialect);
    mkdirSync(join(to, 'meta'), { recursive: true });
    const journal = JSON.parse(readFileSync(join(from, 'meta/_journal.json'), 'utf8')) as { entries: { idx: number; tag: string }[] };
    journal.entries = journal.entries.filter((e) => e.idx === 0);
    writeFileSync(join(to, 'meta/_journal.json'), JSON.stringify(journal));
    for (const f of readdirSync(from)) if (f.startsWith(`${journal.entries[0]!.tag}.`)) cpSync(join(from, f), join(to, f));
  }
  return Object.create(paymentsSchema, { migrationsDir: { value: scratch } }) as ModuleSchema;
}

const old = {
  account: 'old-customer',
  events: [
    { version: 1, type: 'AccountOpened', data: { type: 'AccountOpened', customerId: 'old-customer' } },
    { version: 2, type: 'PaymentCaptured', data: { type: 'PaymentCaptured', orderId: 'old-1', amountMinor: 500, currency: 'EUR', providerRef: 'pay_old_1' } },
    { version: 3, type: 'PaymentCaptured', data: { type: 'PaymentCaptured', orderId: 'old-2', amountMinor: 700, currency: 'EUR', providerRef: 'pay_old_2' } },
  ],
  // What the earlier version snapshotted: the whole state, every payment in it.
  snapshot: { customerId: 'old-customer', opened: true, capturedMinor: 1200, refundedMinor: 0, payments: { 'old-1': { status: 'captured' }, 'old-2': { status: 'captured' } } },
};
const at = new Date('2026-01-01T00:00:00Z');

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
      const dataDir = join(scratch, 'data');
      await migrateModules([before], loadConfig({ ...testKeysEnv, DATA_DIR: dataDir, LOG_LEVEL: 'silent' }));
      const db = new Database(sqliteFile(dataDir, 'payments'));
      const insert = db.prepare('INSERT INTO account_events (account_id, version, type, data, occurred_at) VALUES (?, ?, ?, ?, ?)');
      for (const e of old.events) insert.run(old.account, e.version, e.type, JSON.stringify(e.data), at.getTime());
      db.prepare('INSERT INTO account_snapshots (account_id, version, state, last_event_at) VALUES (?, ?, ?, ?)').run(old.account, 3, JSON.stringify(old.snapshot), at.getTime());
      db.close();
      store = { env: { DATA_DIR: dataDir }, cleanup: async () => {} };
    } else {
      const database = await createTestDatabase();
      cleanups.push(database.drop);
      const env = { DATABASE_URL: database.url };
      await migrateModules([before], loadConfig({ ...testKeysEnv, ...env, LOG_LEVEL: 'silent' }));
      const c = new pg.Client({ connectionString: database.url });
      await c.connect();
      for (const e of old.events) {
        await c.query('INSERT INTO payments.account_events (account_id, version, type, data, occurred_at) VALUES ($1, $2, $3, $4, $5)', [old.account, e.version, e.type, e.data, at]);
      }
      await c.query('INSERT INTO payments.account_snapshots (account_id, version, state, last_event_at) VALUES ($1, $2, $3, $4)', [old.account, 3, old.snapshot, at]);
      await c.end();
      // The upgrade: `npm run migrate` before the new version starts.
      await migrateModules([paymentsSchema], loadConfig({ ...testKeysEnv, ...env, LOG_LEVEL: 'silent' }));
      store = { env, cleanup: async () => {} };
    }

    // On SQLite the app applies the pending migration itself at start.
    const t: TestApp = await bootApp({ engine, modules: ['payments'], store });
    cleanups.push(() => t.close());
    const payments = t.app.contract(paymentsContract);
    const s = t.app.stores.get('payments') as ModuleStore<PaymentsTables>;

    const rows = await s.db.select().from(s.tables.accountEvents).orderBy(s.tables.accountEvents.version);
    expect(rows.map((r) => r.orderId)).toEqual([null, 'old-1', 'old-2']);

    expect(await payments.refund({ orderId: 'old-1', customerId: old.account })).toEqual({ orderId: 'old-1', status: 'refunded' });
    // Charged before the upgrade: charging again answers the earlier capture and records nothing.
    expect(await payments.charge({ orderId: 'old-2', customerId: old.account, amountMinor: 700, currency: 'EUR', paymentMethod: 'tok_ok' })).toEqual({ orderId: 'old-2', status: 'captured', providerRef: 'pay_old_2' });
    expect(await payments.getAccount({ customerId: old.account })).toMatchObject({ capturedMinor: 1200, refundedMinor: 500, netMinor: 700, payments: 2, version: 4 });
    const after = await s.db.select().from(s.tables.accountEvents).orderBy(s.tables.accountEvents.version);
    expect(after.map((r) => [r.type, r.orderId])).toEqual([['AccountOpened', null], ['PaymentCaptured', 'old-1'], ['PaymentCaptured', 'old-2'], ['PaymentRefunded', 'old-1']]);
  });
});
