// Dispatched outbox rows are pruned once older than the retention (housekeeping's outbox-retention
// job), a batch at a time; rows still to send are never touched, whatever their age. Both engines,
// each with the module's own migrations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc } from 'drizzle-orm';
import { migrateModules } from '../../src/platform/data/migrate.ts';
import { openPgStore } from '../../src/platform/data/pg-store.ts';
import { openSqliteStore } from '../../src/platform/data/sqlite-store.ts';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import type { Config } from '../../src/platform/config/env.ts';
import { pruneOutbox } from '../../src/platform/bus/outbox-relay.ts';
import { ordersSchema } from '../../src/modules/orders/db/schema.ts';
import { createTestDatabase } from '../support/databases.ts';

const DAY = 24 * 3600 * 1000;
// More than one prune batch (5,000) of old dispatched rows.
const OLD = 5_200;

const engines: Record<string, () => Promise<{ store: ModuleStore; close: () => Promise<void> }>> = {
  sqlite: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-retention-'));
    await migrateModules([ordersSchema], { storeEngine: 'sqlite', DATA_DIR: dir } as Config);
    const store = openSqliteStore(ordersSchema, { dataDir: dir });
    return { store, close: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
  },
  postgres: async () => {
    const database = await createTestDatabase();
    await migrateModules([ordersSchema], { storeEngine: 'pg', DATABASE_URL: database.url } as Config);
    const store = openPgStore(ordersSchema, { url: database.url, poolMax: 2 });
    return { store, close: async () => (await store.close(), await database.drop()) };
  },
};

for (const [engine, open] of Object.entries(engines)) {
  describe(`outbox retention on ${engine}`, () => {
    let opened: Awaited<ReturnType<typeof open>>;
    beforeAll(async () => {
      opened = await open();
    }, 60_000);
    afterAll(() => opened?.close());

    it('deletes rows dispatched before the cutoff, in batches, and keeps recent and undispatched rows', async () => {
      const { store } = opened;
      const o = store.tables.outbox;
      const now = Date.now();
      const row = (id: string, createdAt: Date, dispatchedAt: Date | null) => ({
        id,
        type: 'test.happened',
        envelope: { id, type: 'test.happened', version: 1, source: 'orders', occurredAt: createdAt.toISOString(), correlationId: id, payload: {} },
        createdAt,
        dispatchedAt,
      });
      const rows = [
        ...Array.from({ length: OLD }, (_, i) => row(`old-${i}`, new Date(now - 40 * DAY), new Date(now - 30 * DAY))),
        row('recent', new Date(now - 2 * DAY), new Date(now - DAY)),
        // Written long ago and never sent (a relay that could not reach its transport): kept.
        row('stuck', new Date(now - 40 * DAY), null),
        row('pending', new Date(now), null),
      ];
      for (let i = 0; i < rows.length; i += 500) await store.writeStatement((db) => db.insert(o).values(rows.slice(i, i + 500) as never));

      expect(await pruneOutbox(store, new Date(now - 7 * DAY))).toBe(OLD);
      const left = await store.db.select({ id: o.id }).from(o).orderBy(asc(o.seq));
      expect(left.map((r: { id: string }) => r.id)).toEqual(['recent', 'stuck', 'pending']);
      expect((await store.platform.pendingOutbox(10)).map((r) => r.envelope.id)).toEqual(['stuck', 'pending']);
      expect(await pruneOutbox(store, new Date(now - 7 * DAY))).toBe(0);
    }, 60_000);
  });
}
