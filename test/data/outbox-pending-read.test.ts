// The relay's read of undispatched outbox rows on Postgres costs what is pending, not what the
// table has ever held (decision 23). Over an index on (dispatched_at, seq) it did not: the generic
// plan of the named statement walked the primary key past every dispatched row, and the custom
// plan's bitmap scan read every dispatched row's dead index entry on every read (a bitmap scan
// never marks them dead). The module's own migrations make the table here, as they do in production.
// On SQLite the same partial index serves the read in seq order.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { migrateModules } from '../../src/platform/data/migrate.ts';
import { openPgStore } from '../../src/platform/data/pg-store.ts';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import type { Config } from '../../src/platform/config/env.ts';
import { ordersSchema } from '../../src/modules/orders/db/schema.ts';
import { createTestDatabase } from '../support/databases.ts';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { schemaBefore } from '../support/earlier-migrations.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, sqliteFile } from '../../src/platform/data/sqlite-store.ts';

const DISPATCHED = 3000;

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Filter?: string;
  'Actual Rows': number;
  'Shared Hit Blocks': number;
  'Shared Read Blocks': number;
  Plans?: PlanNode[];
}
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

describe('the outbox relay’s pending read on Postgres', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: ModuleStore;
  let pendingText = '';

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateModules([ordersSchema], { storeEngine: 'pg', DATABASE_URL: database.url } as Config);
    store = openPgStore(ordersSchema, { url: database.url, poolMax: 2 });
    const envelope = (id: string) => ({ id, type: 'test.happened', version: 1, source: 'orders', occurredAt: new Date().toISOString(), correlationId: id, payload: {} });
    const seqs: number[] = [];
    for (let batch = 0; batch < DISPATCHED / 500; batch++) {
      await store.transaction(async (tx) => {
        for (let i = 0; i < 500; i++) {
          const id = `e-${batch}-${i}`;
          await store.platform.appendOutbox(tx, { id, type: 'test.happened', envelope: envelope(id), createdAt: new Date() } as never);
        }
      });
      const rows = await store.platform.pendingOutbox(500);
      seqs.push(...rows.map((r) => r.seq));
      await store.writeStatement((db) => store.platform.markDispatched(db, rows.map((r) => r.seq), new Date()));
    }
    expect(seqs).toHaveLength(DISPATCHED);
    await store.transaction(async (tx) => {
      for (const id of ['p-1', 'p-2', 'p-3']) await store.platform.appendOutbox(tx, { id, type: 'test.happened', envelope: envelope(id), createdAt: new Date() } as never);
    });
    // Statistics as autovacuum would leave them, so the planner's choice is the same on every run.
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query('ANALYZE orders.platform_outbox');
    await admin.end();
    // The statement's text as the relay sends it.
    const spy = vi.spyOn(pg.Client.prototype, 'query');
    try {
      expect((await store.platform.pendingOutbox(200)).map((r) => r.envelope.id)).toEqual(['p-1', 'p-2', 'p-3']);
      const call = spy.mock.calls.map(([config]) => config as unknown as { name?: string; text?: string }).find((c) => c?.name?.endsWith('pending_outbox'));
      pendingText = call?.text ?? '';
    } finally {
      spy.mockRestore();
    }
    expect(pendingText).toMatch(/dispatched_at" is null/);
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  // Both plans Postgres may pick for a named statement: the custom one (its first five runs) and the
  // generic one it settles on.
  for (const mode of ['force_custom_plan', 'force_generic_plan']) {
    it(`reads the pending rows through the undispatched index, without filtering, past ${DISPATCHED} dispatched rows (${mode})`, async () => {
      const c = new pg.Client({ connectionString: database.url });
      await c.connect();
      try {
        await c.query(`SET plan_cache_mode = ${mode}`);
        await c.query(`PREPARE pending AS ${pendingText}`);
        // The first read may visit the dead entries the marks left and mark them; every read after it must not.
        await c.query('EXECUTE pending(200)');
        const { rows } = await c.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>('EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE pending(200)');
        const plan = rows[0]!['QUERY PLAN'][0]!.Plan;
        const all = nodes(plan);
        expect(plan['Actual Rows']).toBe(3);
        // A plain index scan, in seq order: it marks the dead entries the marks left (a bitmap scan never does).
        expect(all.filter((n) => n['Index Name']).map((n) => [n['Node Type'], n['Index Name']]), JSON.stringify(plan)).toEqual([['Index Scan', 'platform_outbox_undispatched_idx']]);
        expect(all.filter((n) => n.Filter), JSON.stringify(plan)).toEqual([]);
        // The index's pages (the dispatched rows' entries stay in them, marked dead, until a vacuum)
        // and the three rows' heap pages: 11-28 buffers in runs on idle and busy machines, where the
        // scans over every dispatched row touched 113 (bitmap) and 3,366 (primary key) at this size.
        expect(plan['Shared Hit Blocks'] + plan['Shared Read Blocks'], JSON.stringify(plan)).toBeLessThan(60);
      } finally {
        await c.end();
      }
    });
  }
});

describe('the outbox relay’s pending read on SQLite', () => {
  it('is served by the undispatched index, in seq order, without a sort', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-pending-'));
    // The spy records each statement's text and prepares it as usual.
    const prepare = vi.spyOn(Database.prototype, 'prepare');
    let prepared: string[] = [];
    try {
      await migrateModules([ordersSchema], { storeEngine: 'sqlite', DATA_DIR: dir } as Config);
      const store = openSqliteStore(ordersSchema, { dataDir: dir });
      try {
        expect(await store.platform.pendingOutbox(200)).toEqual([]);
      } finally {
        await store.close();
      }
    } finally {
      prepared = prepare.mock.calls.map(([source]) => source);
      prepare.mockRestore();
    }
    const text = prepared.find((q) => /from "platform_outbox" where "platform_outbox"."dispatched_at" is null/.test(q));
    expect(text, prepared.join('\n')).toBeDefined();
    const db = new Database(sqliteFile(dir, 'orders'), { readonly: true });
    try {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${text}`).all() as { detail: string }[]).map((r) => r.detail);
      expect(plan).toEqual(['SCAN platform_outbox USING INDEX platform_outbox_undispatched_idx']);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The orders schema as the migration before the undispatched index left it. */
const beforeTheIndex = (scratch: string) => schemaBefore(ordersSchema, scratch, (m) => m.sql.includes('platform_outbox_undispatched_idx'));

describe('upgrading an outbox to the undispatched index (Postgres)', () => {
  for (const prebuilt of [false, true]) {
    it(prebuilt ? 'keeps an index an operator built beforehand CONCURRENTLY' : 'replaces the old index and keeps every row', async () => {
      const scratch = mkdtempSync(join(tmpdir(), 'outbox-upgrade-'));
      const database = await createTestDatabase();
      const c = new pg.Client({ connectionString: database.url });
      try {
        await migrateModules([beforeTheIndex(scratch)], { storeEngine: 'pg', DATABASE_URL: database.url } as Config);
        await c.connect();
        const envelope = (id: string) => JSON.stringify({ id, type: 'test.happened', version: 1, source: 'orders', occurredAt: new Date().toISOString(), correlationId: id, payload: {} });
        await c.query(`INSERT INTO orders.platform_outbox (id, type, envelope, created_at, dispatched_at) VALUES ('sent', 't', $1, now(), now()), ('waiting', 't', $2, now(), NULL)`, [envelope('sent'), envelope('waiting')]);
        if (prebuilt) await c.query('CREATE INDEX CONCURRENTLY platform_outbox_undispatched_idx ON orders.platform_outbox (seq) WHERE dispatched_at IS NULL');
        await migrateModules([ordersSchema], { storeEngine: 'pg', DATABASE_URL: database.url } as Config);
        const indexes = await c.query<{ indexname: string; indexdef: string }>(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'orders' AND tablename = 'platform_outbox' AND indexname LIKE 'platform_outbox_%_idx'`);
        expect(indexes.rows.map((r) => r.indexname)).toEqual(['platform_outbox_undispatched_idx']);
        expect(indexes.rows[0]!.indexdef).toMatch(/\(seq\) WHERE \(dispatched_at IS NULL\)$/);
        const store = openPgStore(ordersSchema, { url: database.url, poolMax: 1 });
        try {
          expect((await store.platform.pendingOutbox(200)).map((r) => r.envelope.id)).toEqual(['waiting']);
        } finally {
          await store.close();
        }
      } finally {
        await c.end().catch(() => undefined);
        await database.drop();
        rmSync(scratch, { recursive: true, force: true });
      }
    }, 60_000);
  }
});
