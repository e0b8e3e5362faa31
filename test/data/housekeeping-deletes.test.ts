// The kernel's sweeps of expired idempotency keys and old inbox rows, on a store alone and on both
// engines: every due row goes and no other, a bounded batch a statement, so a backlog of any size
// is many short writes rather than one long one that live units of work would wait behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asc } from 'drizzle-orm';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import { ordersSchema } from '../../src/modules/orders/db/schema.ts';
import { sweepIdempotencyKeys } from '../../src/platform/http/idempotency.ts';
import { pruneInbox } from '../../src/platform/bus/inbox-consumer.ts';
import { engines } from '../support/boot.ts';
import { storeOn } from '../support/store-on-engine.ts';

const HOUR = 3600 * 1000;

/** `count` idempotency keys of `scope` that expire at `expiresAt`. */
const expiring = (count: number, scope: string, expiresAt: Date) =>
  Array.from({ length: count }, (_, i) => ({ scope, key: `${scope}-${i}`, requestHash: 'h', status: 201, response: { i }, headers: {}, createdAt: new Date(), expiresAt }));

/** The store's idempotency keys as `scope/key`, in order. */
async function keysIn(store: ModuleStore): Promise<string[]> {
  const t = store.tables.idempotencyKeys;
  return ((await store.db.select({ scope: t.scope, key: t.key }).from(t).orderBy(asc(t.scope), asc(t.key))) as { scope: string; key: string }[]).map((r) => `${r.scope}/${r.key}`);
}

describe.each(engines)('housekeeping deletes on %s', (engine) => {
  let store: ModuleStore;
  let close: () => Promise<void>;
  beforeAll(async () => ({ store, close } = await storeOn(engine, ordersSchema)));
  afterAll(() => close?.());

  /** The store, but every single-statement write it makes is counted with the rows it returned. */
  const counted = () => {
    const sizes: number[] = [];
    const writeStatement: ModuleStore['writeStatement'] = async (fn) => {
      const rows = await store.writeStatement(fn);
      sizes.push((rows as unknown[]).length);
      return rows;
    };
    return { store: Object.assign(Object.create(store) as ModuleStore, { writeStatement }), sizes };
  };

  it('sweeps every expired idempotency key, a batch at a time, and keeps the live ones', async () => {
    const t = store.tables.idempotencyKeys;
    const past = new Date(Date.now() - HOUR);
    await store.transaction(async (tx) => {
      await tx.insert(t).values([...expiring(13, 'POST /a', past), ...expiring(10, 'POST /b', past), ...expiring(3, 'POST /live', new Date(Date.now() + HOUR))]);
    });
    const { store: watched, sizes } = counted();
    expect(await sweepIdempotencyKeys(watched, 5)).toBe(23);
    // 23 rows, 5 a statement: four full batches, one of 3, and no statement more.
    expect(sizes).toEqual([5, 5, 5, 5, 3]);
    expect(await keysIn(store)).toEqual(['POST /live/POST /live-0', 'POST /live/POST /live-1', 'POST /live/POST /live-2']);
    // Nothing due: one statement that finds nothing.
    const again = counted();
    expect(await sweepIdempotencyKeys(again.store, 5)).toBe(0);
    expect(again.sizes).toEqual([0]);
  });

  it('prunes every inbox row handled before the cut-off, a batch at a time, and keeps the younger ones', async () => {
    const i = store.tables.inbox;
    const old = new Date(Date.now() - 30 * 24 * HOUR);
    const young = new Date(Date.now() - HOUR);
    await store.transaction(async (tx) => {
      // Two handlers of one event: the key is the pair, and each row goes on its own age.
      await tx.insert(i).values([
        ...Array.from({ length: 12 }, (_, n) => ({ eventId: `old-${n}`, handler: 'A.v1', handledAt: old })),
        { eventId: 'both', handler: 'A.v1', handledAt: old },
        { eventId: 'both', handler: 'B.v1', handledAt: young },
        { eventId: 'young', handler: 'A.v1', handledAt: young },
      ]);
    });
    const { store: watched, sizes } = counted();
    expect(await pruneInbox(watched, new Date(Date.now() - 14 * 24 * HOUR), 4)).toBe(13);
    // 13 rows, 4 a statement: the last batch is short and ends the sweep.
    expect(sizes).toEqual([4, 4, 4, 1]);
    const left = (await store.db.select({ eventId: i.eventId, handler: i.handler }).from(i).orderBy(asc(i.eventId), asc(i.handler))) as { eventId: string; handler: string }[];
    expect(left).toEqual([
      { eventId: 'both', handler: 'B.v1' },
      { eventId: 'young', handler: 'A.v1' },
    ]);
  });
});

// On SQLite every write goes through the one writer: a sweep in one statement would hold it, and
// every unit queued behind, for as long as the backlog takes.
describe('housekeeping deletes on the SQLite writer', () => {
  let store: ModuleStore;
  let close: () => Promise<void>;
  beforeAll(async () => ({ store, close } = await storeOn('sqlite', ordersSchema)));
  afterAll(() => close?.());

  it('lets a unit of work queued during a long sweep commit before the sweep ends', async () => {
    const t = store.tables.idempotencyKeys;
    const past = new Date(Date.now() - HOUR);
    await store.transaction(async (tx) => {
      await tx.insert(t).values(expiring(2_000, 'POST /backlog', past));
    });
    const settled: string[] = [];
    const sweep = sweepIdempotencyKeys(store, 100).then((n) => (settled.push('sweep'), n));
    const unit = store
      .transaction(async (tx) => {
        await tx.insert(t).values(expiring(1, 'POST /live-during', new Date(Date.now() + HOUR)));
      })
      .then(() => settled.push('unit'));
    expect(await sweep).toBe(2_000);
    await unit;
    // The single writer took the unit between two of the sweep's statements, not after all twenty.
    expect(settled).toEqual(['unit', 'sweep']);
    expect((await keysIn(store)).filter((k) => k.startsWith('POST /backlog'))).toEqual([]);
    expect(await keysIn(store)).toContain('POST /live-during/POST /live-during-0');
  });
});
