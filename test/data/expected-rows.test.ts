// A write that must change a given number of rows (preparedWrite's `expectRows`), on both engines:
// held for the COMMIT and changing none, it fails the unit in the database before the COMMIT runs,
// so nothing the unit sent with it is kept; a write whose rows are read after the unit gets them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import Database from 'better-sqlite3';
import { defineSchema } from '../../src/platform/data/schema-kit.ts';
import { openSqliteStore } from '../../src/platform/data/sqlite-store.ts';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import { bound, preparedWrite, rowsNotAsExpected, RowsNotAsExpected, sendTogether } from '../../src/platform/data/prepared-write.ts';
import { pgStoreWith } from '../support/databases.ts';
import { NotRun } from '../../src/platform/data/not-run.ts';

const schema = defineSchema('counts', (k) => ({
  things: k.table('things', { id: k.text('id').primaryKey(), n: k.int('n').notNull() }),
}));
type Tables = ReturnType<typeof schema.tables>;

const engines: [string, () => Promise<{ store: ModuleStore<Tables>; close(): Promise<void> }>][] = [
  [
    'SQLite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'expected-rows-'));
      const raw = new Database(join(dir, 'counts.sqlite'));
      raw.exec('CREATE TABLE things (id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
      raw.close();
      const store = openSqliteStore(schema, { dataDir: dir });
      return { store, close: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
    },
  ],
  ['Postgres', () => pgStoreWith(schema, 'CREATE SCHEMA counts; CREATE TABLE counts.things (id text PRIMARY KEY, n integer NOT NULL)', 2)],
];

describe.each(engines)('writes that must change a given number of rows, on %s', (_engine, open) => {
  let opened: Awaited<ReturnType<typeof open>>;
  let store: ModuleStore<Tables>;
  beforeAll(async () => {
    opened = await open();
    store = opened.store;
  });
  afterAll(() => opened?.close());

  const statements = () => {
    const t = store.tables.things;
    const id = bound(t.id, 'id');
    return {
      insert: preparedWrite(store, 'insert', (db) => db.insert(t).values({ id: bound(t.id, 'id'), n: bound(t.n, 'n') } as never)),
      // Adds to n while it stays at or under the cap: a conditional write that may change nothing.
      addCapped: preparedWrite<{ id: string; n: number }>(
        store,
        'add_capped',
        (db) => db.update(t).set({ n: bound(t.n, 'by') as never }).where(eq(t.id, id)).returning({ id: t.id, n: t.n }),
        { expectRows: 1 },
      ),
      bumpAll: preparedWrite<{ id: string }>(store, 'bump_all', (db) => db.update(t).set({ n: bound(t.n, 'n') as never }).returning({ id: t.id }), { expectRows: 2 }),
    };
  };
  const rows = async () => (await store.db.select().from(store.tables.things).orderBy(store.tables.things.id)).map((r) => `${r.id}=${r.n}`);

  it('commits a held write that changed the rows it had to, with what went with it, and answers its rows after the unit', async () => {
    const s = statements();
    await store.transaction((tx) => s.insert.run(tx, { id: 'a', n: 1 }));
    const held = await store.transaction(async (tx) => {
      await s.insert.later(tx, { id: 'b', n: 2 });
      return { set: s.addCapped.laterWithRows(tx, { id: 'a', by: 5 }) };
    });
    expect(await held.set.rows).toEqual([{ id: 'a', n: 5 }]);
    expect(await rows()).toEqual(['a=5', 'b=2']);
  });

  it('fails the unit when a held write changed no row: nothing sent with it, before or after, is kept', async () => {
    const s = statements();
    let caught: unknown;
    await store
      .transaction(async (tx) => {
        await s.insert.later(tx, { id: 'c', n: 3 });
        await s.addCapped.later(tx, { id: 'nobody', by: 9 });
        await s.insert.later(tx, { id: 'd', n: 4 });
      })
      .catch((err) => (caught = err));
    expect(rowsNotAsExpected(caught)).toBe(true);
    expect(rowsNotAsExpected(caught, 'counts_add_capped')).toBe(true);
    expect(rowsNotAsExpected(caught, 'counts_insert')).toBe(false);
    expect(String((caught as Error).message)).toMatch(/counts_add_capped changed 0, expected 1/);
    expect(await rows()).toEqual(['a=5', 'b=2']);
    // The connection goes on serving units.
    await store.transaction((tx) => s.insert.run(tx, { id: 'c', n: 3 }));
    expect(await rows()).toEqual(['a=5', 'b=2', 'c=3']);
  });

  it('checks a count other than one, and fails a write with rows read after the unit the same way', async () => {
    const s = statements();
    let caught: unknown;
    const held = await store
      .transaction(async (tx) => ({ all: s.bumpAll.laterWithRows(tx, { n: 7 }) }))
      .catch((err) => {
        caught = err;
        return undefined;
      });
    expect(held).toBeUndefined();
    expect(rowsNotAsExpected(caught, 'counts_bump_all')).toBe(true);
    expect(String((caught as Error).message)).toMatch(/counts_bump_all changed 3, expected 2/);
    expect(await rows()).toEqual(['a=5', 'b=2', 'c=3']);
  });

  it('fails a write sent on its own, or with others, at that statement', async () => {
    const s = statements();
    await expect(store.transaction((tx) => s.addCapped.all(tx, { id: 'nobody', by: 1 }))).rejects.toSatisfy((err) => rowsNotAsExpected(err, 'counts_add_capped'));
    await expect(
      store.transaction((tx) => sendTogether(tx, [() => s.addCapped.all(tx, { id: 'a', by: 6 }), () => s.addCapped.all(tx, { id: 'nobody', by: 1 })] as const)),
    ).rejects.toSatisfy((err) => rowsNotAsExpected(err, 'counts_add_capped'));
    expect(await rows()).toEqual(['a=5', 'b=2', 'c=3']);
    expect(await store.transaction((tx) => s.addCapped.all(tx, { id: 'a', by: 6 }))).toEqual([{ id: 'a', n: 6 }]);
  });

  it('tells its own mismatch from other errors', () => {
    expect(rowsNotAsExpected(new RowsNotAsExpected('m_x', 'changed 0, expected 1'), 'm_x')).toBe(true);
    expect(rowsNotAsExpected(Object.assign(new Error('invalid input syntax for type integer: "12a"'), { code: '22P02' }))).toBe(false);
    expect(rowsNotAsExpected(new Error('rows not as expected: m_x changed 0, expected 1'))).toBe(false);
    // The server's own words around the text are in its language (lc_messages); the text is ours.
    const german = Object.assign(new Error('ungültige Eingabesyntax für Typ integer: »rows not as expected: m_x changed 0, expected 1«'), { code: '22P02' });
    expect(rowsNotAsExpected(german, 'm_x')).toBe(true);
    expect(rowsNotAsExpected(german, 'm_y')).toBe(false);
    // A statement skipped after the failing one in its round trip tells of that one's failure.
    expect(rowsNotAsExpected(new NotRun(german), 'm_x')).toBe(true);
    // Only drizzle's wrapper and NotRun are looked through: a unit that failed because another did is not this.
    expect(rowsNotAsExpected(new Error('the group commit was lost', { cause: new RowsNotAsExpected('m_x', 'changed 0, expected 1') }))).toBe(false);
  });
});
