// The outbox pruning pass on a store alone (no relay running beside it), on both engines: which
// rows go, where a pass stops, and that the next pass picks up from there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asc, inArray } from 'drizzle-orm';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import { ordersSchema } from '../../src/modules/orders/db/schema.ts';
import { outboxRetention } from '../../src/platform/bus/outbox-retention.ts';
import { engines } from '../support/boot.ts';
import { storeOn, withWriteStatement } from '../support/store-on-engine.ts';

const DAY = 24 * 3600 * 1000;
const now = Date.now();
const cutOff = new Date(now - 10 * DAY);

describe.each(engines)('outbox retention pass on %s', (engine) => {
  let store: ModuleStore;
  let close: () => Promise<void>;
  beforeAll(async () => ({ store, close } = await storeOn(engine, ordersSchema)));
  afterAll(() => close?.());

  let n = 0;
  /** Appends rows of `type`, created `daysAgo`, sent or not; resolves to their seqs. */
  const write = async (count: number, type: string, daysAgo: number, sent: boolean) => {
    const ids = Array.from({ length: count }, () => `e-${n++}`);
    await store.transaction(async (tx) => {
      for (const id of ids) {
        const envelope = { id, type: type.split('.')[0]!, version: 1, source: 'orders', occurredAt: new Date(now - daysAgo * DAY).toISOString(), correlationId: id, payload: {} };
        await store.platform.appendOutbox(tx, { id, type, envelope, createdAt: new Date(now - daysAgo * DAY) });
      }
    });
    const o = store.tables.outbox;
    const seqs = ((await store.db.select({ seq: o.seq }).from(o).where(inArray(o.id, ids)).orderBy(asc(o.seq))) as { seq: number }[]).map((r) => r.seq);
    if (sent) await store.transaction((tx) => store.platform.markDispatched(tx, seqs, new Date()));
    return seqs;
  };
  const remaining = async () => ((await store.db.select({ seq: store.tables.outbox.seq }).from(store.tables.outbox).orderBy(asc(store.tables.outbox.seq))) as { seq: number }[]).map((r) => r.seq);

  it('prunes sent rows past the cut-off in batches, keeps kept types, and stops at the first row not yet sent', async () => {
    const retention = outboxRetention(store, ['Kept.v1']);
    const old = await write(1_200, 'Gone.v1', 30, true); // more than two of the pass's batches
    const kept = await write(3, 'Kept.v1', 30, true);
    const unsent = await write(1, 'Gone.v1', 30, false);
    const behind = await write(2, 'Gone.v1', 30, true);
    const young = await write(2, 'Gone.v1', 1, true);

    expect(await retention.prune(cutOff)).toBe(old.length);
    // Stopped at the unsent row: it and what follows it stay.
    expect(await remaining()).toEqual([...kept, ...unsent, ...behind, ...young]);

    // Once it is sent, the next pass goes on from where the last one stopped.
    await store.transaction((tx) => store.platform.markDispatched(tx, unsent, new Date()));
    expect(await retention.prune(cutOff)).toBe(unsent.length + behind.length);
    expect(await remaining()).toEqual([...kept, ...young]);

    // Nothing more to do until rows age: young rows and kept types stay.
    expect(await retention.prune(cutOff)).toBe(0);
    expect(await remaining()).toEqual([...kept, ...young]);
  });

  // Goes on from the table the test above left (its kept and young rows).
  it('starts over from the table’s start in a new process, where the kept rows are walked once', async () => {
    const later = await write(5, 'Gone.v1', 20, true);
    const fresh = outboxRetention(store, ['Kept.v1']);
    const before = await remaining();
    expect(await fresh.prune(cutOff)).toBe(0); // stopped at the young rows written by the first test
    expect(await remaining()).toEqual(before);
    // Rows older than the young ones' cut-off are after them in seq order: a pass waits for them.
    expect(later.every((s) => before.includes(s))).toBe(true);
    expect(await fresh.prune(new Date(now))).toBe(before.length - 3);
    expect((await remaining()).length).toBe(3);
  });

  // Goes on from the table the tests above left (three kept rows).
  it('starts no further batch once told to stop, and the next pass goes on from where it stopped', async () => {
    const old = await write(1_200, 'Gone.v1', 30, true); // three of the pass's batches
    const stopping = new AbortController();
    // Stopped as its first delete is sent: that one completes, no second batch starts.
    const stopped = withWriteStatement(store, (fn) => (stopping.abort(), store.writeStatement(fn)));
    const retention = outboxRetention(stopped, ['Kept.v1']);
    // Its first batch walks 500 rows: the three kept ones and 497 that go.
    expect(await retention.prune(new Date(now), stopping.signal)).toBe(497);
    expect(await retention.prune(new Date(now))).toBe(old.length - 497);
    expect((await remaining()).length).toBe(3);
  });
});
