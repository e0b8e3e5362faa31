// Prepared writes on Postgres (prepared-write.ts): built once, each call run on the connection of
// the unit of work it is given. The SQLite side is in src/platform/data/prepared-write.test.ts.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { and, eq } from 'drizzle-orm';
import { defineSchema } from '../../src/platform/data/schema-kit.ts';
import { bound, preparedWrite, sendTogether } from '../../src/platform/data/prepared-write.ts';
import { failedBeforeIt } from '../../src/platform/data/not-run.ts';
import { inList, preparedRead } from '../../src/platform/data/prepared-read.ts';
import { pgStoreWith } from '../support/databases.ts';

const schema = defineSchema('gadgets', (k) => ({
  gadgets: k.table('gadgets', { id: k.text('id').primaryKey(), tags: k.json<string[]>('tags'), seenAt: k.timestamp('seen_at'), on: k.bool('on').notNull() }),
}));

describe('prepared writes on Postgres', () => {
  let pgStore: Awaited<ReturnType<typeof pgStoreWith<ReturnType<typeof schema.tables>>>>;
  let store: (typeof pgStore)['store'];
  beforeAll(async () => {
    pgStore = await pgStoreWith(schema, 'CREATE SCHEMA gadgets; CREATE TABLE gadgets.gadgets (id text PRIMARY KEY, tags jsonb, seen_at timestamptz, "on" boolean NOT NULL)');
    store = pgStore.store;
  });
  afterAll(() => pgStore?.close());

  const g = () => store.tables.gadgets;
  const insert = () => preparedWrite(store as never, 'insert', (db) => db.insert(g()).values({ id: bound(g().id, 'id'), tags: bound(g().tags, 'tags'), seenAt: bound(g().seenAt, 'seenAt'), on: bound(g().on, 'on') } as never));

  it('binds each call its own values, encoded as the columns store them (null as null), in values, set and conditions', async () => {
    const add = insert();
    const touch = preparedWrite<{ id: string; seenAt: Date | null }>(store as never, 'touch', (db) =>
      db
        .update(g())
        .set({ seenAt: bound(g().seenAt, 'to') as never })
        .where(and(eq(g().id, bound(g().id, 'id')), eq(g().seenAt, bound(g().seenAt, 'from'))))
        .returning({ id: g().id, seenAt: g().seenAt }),
    );
    const t1 = new Date('2026-01-01T00:00:00.123Z');
    const t2 = new Date('2026-01-02T00:00:00.456Z');
    await store.transaction(async (tx) => {
      expect(await add.run(tx, { id: 'a', tags: ['x', 'y'], seenAt: t1, on: true })).toBe(1);
      expect(await add.run(tx, { id: 'b', tags: null, seenAt: null, on: false })).toBe(1);
    });
    expect(await store.transaction((tx) => touch.all(tx, { id: 'a', from: t2, to: t1 }))).toEqual([]);
    expect(await store.transaction((tx) => touch.all(tx, { id: 'a', from: t1, to: t2 }))).toEqual([{ id: 'a', seenAt: t2 }]);
    // Outside a unit of work it runs on the pool.
    expect(await add.run(store.db, { id: 'c', tags: [], seenAt: null, on: true })).toBe(1);
    const rows = await store.db.select().from(g()).orderBy(g().id);
    expect(rows).toEqual([
      { id: 'a', tags: ['x', 'y'], seenAt: t2, on: true },
      { id: 'b', tags: null, seenAt: null, on: false },
      { id: 'c', tags: [], seenAt: null, on: true },
    ]);
  });

  it('runs each call inside its own unit of work, on that unit’s connection, while others run at once', async () => {
    const add = insert();
    // Eight units at once on a pool of four: each unit's rows commit or roll back with it alone.
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        store.transaction(async (tx) => {
          await add.run(tx, { id: `u${i}-1`, tags: null, seenAt: null, on: true });
          await new Promise((r) => setTimeout(r, 5));
          await add.run(tx, { id: `u${i}-2`, tags: null, seenAt: null, on: true });
          if (i % 2) throw new Error(`unit ${i} fails`);
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(4);
    const ids = (await store.db.select({ id: g().id }).from(g())).map((r) => r.id).filter((id) => id.startsWith('u')).sort();
    expect(ids).toEqual(['u0-1', 'u0-2', 'u2-1', 'u2-2', 'u4-1', 'u4-2', 'u6-1', 'u6-2']);
  });

  it('sends a write whose result the unit does not need (later) with what follows: seen by the unit, kept with it, and its failure fails the unit', async () => {
    const add = insert();
    const count = async (tx: typeof store.db, prefix: string) => (await tx.select({ id: g().id }).from(g())).filter((r) => r.id.startsWith(prefix)).length;
    await store.transaction(async (tx) => {
      await add.later(tx, { id: 'later-1', tags: null, seenAt: null, on: true });
      // Sent ahead of this read, in the same round trip.
      expect(await count(tx, 'later-')).toBe(1);
      await add.later(tx, { id: 'later-2', tags: null, seenAt: null, on: true });
    });
    expect(await count(store.db, 'later-')).toBe(2);
    // A duplicate held to the COMMIT: the unit fails with its error, and nothing of it is kept.
    await expect(
      store.transaction(async (tx) => {
        await add.run(tx, { id: 'later-3', tags: null, seenAt: null, on: true });
        await add.later(tx, { id: 'later-1', tags: null, seenAt: null, on: true });
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await count(store.db, 'later-')).toBe(2);
    // Outside a unit of work it simply runs.
    await add.later(store.db, { id: 'later-4', tags: null, seenAt: null, on: true });
    expect(await count(store.db, 'later-')).toBe(3);
  });

  it('sends statements that do not depend on each other together, in one round trip, and answers each', async () => {
    const add = insert();
    const flip = preparedWrite<{ id: string; on: boolean }>(store as never, 'flip', (db) =>
      db.update(g()).set({ on: bound(g().on, 'on') as never }).where(eq(g().id, bound(g().id, 'id'))).returning({ id: g().id, on: g().on }),
    );
    await store.transaction((tx) => add.run(tx, { id: 'tog-1', tags: null, seenAt: null, on: false }));
    const sent = vi.spyOn(pg.Client.prototype, 'query');
    try {
      const answers = await store.transaction(async (tx) => {
        await add.later(tx, { id: 'tog-2', tags: null, seenAt: null, on: false });
        return sendTogether(tx, [() => flip.all(tx, { id: 'tog-1', on: true }), () => flip.all(tx, { id: 'tog-2', on: true }), () => add.run(tx, { id: 'tog-3', tags: null, seenAt: null, on: true })] as const);
      });
      expect(answers).toEqual([[{ id: 'tog-1', on: true }], [{ id: 'tog-2', on: true }], 1]);
      // BEGIN, the held write and the three statements; then the COMMIT.
      expect(sent).toHaveBeenCalledTimes(2);
    } finally {
      sent.mockRestore();
    }
    const on = async (prefix: string) => (await store.db.select().from(g())).filter((r) => r.id.startsWith(prefix)).map((r) => [r.id, r.on]).sort();
    expect(await on('tog-')).toEqual([['tog-1', true], ['tog-2', true], ['tog-3', true]]);
    // One that fails leaves the ones after it unrun, and the unit fails with its error: nothing of it is kept.
    let second: unknown;
    await expect(
      store.transaction((tx) =>
        sendTogether(tx, [
          () => add.run(tx, { id: 'tog-1', tags: null, seenAt: null, on: true }),
          () => flip.all(tx, { id: 'tog-3', on: false }).catch((err: unknown) => ((second = err), Promise.reject(err))),
        ] as const),
      ),
    ).rejects.toMatchObject({ cause: { code: '23505' } });
    expect(failedBeforeIt(second)).toBe(true);
    expect(await on('tog-')).toEqual([['tog-1', true], ['tog-2', true], ['tog-3', true]]);
    // Each send must send one statement.
    await expect(store.transaction((tx) => sendTogether(tx, [async () => 'nothing sent'] as const))).rejects.toThrow(/exactly one statement/);
  });

  it('reads the rows of a list of any length with one named statement (inList)', async () => {
    const some = preparedRead<{ id: string }>(store as never, 'some', (db) => db.select({ id: g().id }).from(g()).where(inList(store as never, g().id, 'ids')).orderBy(g().id));
    expect(await some({ ids: ['b', 'a', 'missing', 'a'] })).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect(await some({ ids: ['c'] })).toEqual([{ id: 'c' }]);
    expect(await some({ ids: [] })).toEqual([]);
  });
});
