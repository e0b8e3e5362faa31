// The relay's gather window (BUS_GATHER_MS): while events keep coming, a pass starts at most once
// per window, so the events of a burst go in a few batches rather than one pass each; the first
// kick starts a pass at once; a clean stop sends what the window gathered; and every event is
// delivered once, however passes are cut.
// On a real SQLite store (the ledger fixture's, migrated as in production); the transport records
// what it is handed.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { migrateModules } from '../data/migrate.ts';
import { openSqliteStore } from '../data/sqlite-store.ts';
import type { Config } from '../config/env.ts';
import { createLogger } from '../logging/logger.ts';
import { createMetrics } from '../metrics/registry.ts';
import { busMetrics } from './bus-metrics.ts';
import { outboxRelay } from './outbox-relay.ts';
import { unitOfWorkFor } from './unit-of-work.ts';
import type { Delivery, Transport } from './transport.ts';
import { ledgerSchema } from '../../../test/fixtures/modules/ledger/db/schema.ts';
import { EntryRecorded } from '../../../test/fixtures/modules/ledger/index.ts';
import { eventually } from '../../../test/support/eventually.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function relayWith(gatherMs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'relay-gather-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  await migrateModules([ledgerSchema], { storeEngine: 'sqlite', DATA_DIR: dir } as Config);
  const store = openSqliteStore(ledgerSchema, { dataDir: dir });
  cleanups.push(() => store.close());
  const batches: Delivery[][] = [];
  const transport: Transport = {
    kind: 'inprocess',
    async deliver(batch) {
      batches.push([...batch]);
    },
    consume() {},
    async redeliver() {},
    async ready() {},
    async close() {},
  };
  // A poll far beyond the test: every pass here is a kick's.
  const relay = outboxRelay({ store, routing: () => ['tally'], transport, metrics: busMetrics(createMetrics()), logger: createLogger('silent'), pollMs: 600_000, gatherMs });
  cleanups.push(() => relay.stop());
  const uow = unitOfWorkFor(store, [EntryRecorded], () => relay.kick());
  const publish = () => uow((u) => u.publish(EntryRecorded, { entryId: randomUUID(), amount: 1 }));
  const delivered = () => batches.flat().map((d) => d.envelope.id);
  return { relay, publish, batches, delivered };
}

describe('the outbox relay’s gather window', () => {
  it('sends a burst’s events in a few batches, each once', async () => {
    const r = await relayWith(60_000);
    // The first commit's kick starts a pass at once (well within the minute's window); the window
    // then holds every later kick.
    await r.publish();
    await eventually(() => r.delivered().length === 1, 'the first event, at once', 10_000);
    for (let i = 0; i < 40; i++) await r.publish();
    // Nothing more goes until the window ends.
    expect(r.batches).toHaveLength(1);
    // A clean stop sends what the window gathered, in one last pass, and nothing after it.
    await r.relay.stop();
    expect(r.batches).toHaveLength(2);
    expect(new Set(r.delivered()).size).toBe(41);
    await r.publish();
    expect(r.delivered()).toHaveLength(41);
  });

  it('batches what comes during the window, and sends it when the window ends', async () => {
    const r = await relayWith(300);
    await r.publish();
    await eventually(() => r.delivered().length === 1, 'the first event', 10_000);
    for (let i = 0; i < 40; i++) await r.publish();
    await eventually(() => r.delivered().length === 41, 'the burst', 10_000);
    // Forty kicks within the window went in far fewer passes than forty (one each without it).
    expect(r.batches.length).toBeLessThan(10);
    expect(new Set(r.delivered()).size).toBe(41);
  });

  it('follows every kick at once with no window, as before', async () => {
    const r = await relayWith(0);
    for (let i = 0; i < 5; i++) {
      await r.publish();
      await eventually(() => r.delivered().length === i + 1, `event ${i + 1}`, 10_000);
    }
    expect(r.batches).toHaveLength(5);
  });
});
