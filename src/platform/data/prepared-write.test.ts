import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import Database from 'better-sqlite3';
import { openSqliteStore } from './sqlite-store.ts';
import { defineSchema } from './schema-kit.ts';
import { bound, preparedWrite, sendTogether } from './prepared-write.ts';

const schema = defineSchema('gadgets', (k) => ({
  gadgets: k.table('gadgets', { id: k.text('id').primaryKey(), tags: k.json<string[]>('tags'), seenAt: k.timestamp('seen_at'), on: k.bool('on').notNull() }),
}));

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function store() {
  const dir = mkdtempSync(join(tmpdir(), 'prepared-write-'));
  dirs.push(dir);
  const raw = new Database(join(dir, 'gadgets.sqlite'));
  raw.exec('CREATE TABLE gadgets (id TEXT PRIMARY KEY, tags TEXT, seen_at INTEGER, "on" INTEGER NOT NULL)');
  raw.close();
  return openSqliteStore(schema, { dataDir: dir });
}

describe('prepared writes on SQLite', () => {
  it('binds each call its own values, encoded as the columns store them (null as null), in values, set and conditions', async () => {
    const s = store();
    const g = s.tables.gadgets;
    const insert = preparedWrite(s, 'insert', (db) => db.insert(g).values({ id: bound(g.id, 'id'), tags: bound(g.tags, 'tags'), seenAt: bound(g.seenAt, 'seenAt'), on: bound(g.on, 'on') } as never));
    const touch = preparedWrite<{ id: string; seenAt: Date | null }>(s, 'touch', (db) =>
      db
        .update(g)
        .set({ seenAt: bound(g.seenAt, 'to') as never })
        .where(and(eq(g.id, bound(g.id, 'id')), eq(g.seenAt, bound(g.seenAt, 'from'))))
        .returning({ id: g.id, seenAt: g.seenAt }),
    );
    const t1 = new Date('2026-01-01T00:00:00.123Z');
    const t2 = new Date('2026-01-02T00:00:00.456Z');
    await s.transaction(async (tx) => {
      expect(await insert.run(tx, { id: 'a', tags: ['x', 'y'], seenAt: t1, on: true })).toBe(1);
      expect(await insert.run(tx, { id: 'b', tags: null, seenAt: null, on: false })).toBe(1);
    });
    expect(await s.transaction((tx) => touch.all(tx, { id: 'a', from: t2, to: t1 }))).toEqual([]);
    expect(await s.transaction((tx) => touch.all(tx, { id: 'a', from: t1, to: t2 }))).toEqual([{ id: 'a', seenAt: t2 }]);
    const rows = await s.db.select().from(g).orderBy(g.id);
    expect(rows).toEqual([
      { id: 'a', tags: ['x', 'y'], seenAt: t2, on: true },
      { id: 'b', tags: null, seenAt: null, on: false },
    ]);
    await s.close();
  });

  it('writes inside the unit of work that runs it: rolled back with it', async () => {
    const s = store();
    const g = s.tables.gadgets;
    const insert = preparedWrite(s, 'insert', (db) => db.insert(g).values({ id: bound(g.id, 'id'), on: bound(g.on, 'on') } as never));
    await expect(
      s.transaction(async (tx) => {
        await insert.run(tx, { id: 'gone', on: true });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await s.db.select().from(g)).toEqual([]);
    await s.close();
  });

  it('runs a write whose result the unit does not need (later) at once, inside the unit: a failure throws there', async () => {
    const s = store();
    const g = s.tables.gadgets;
    const insert = preparedWrite(s, 'insert', (db) => db.insert(g).values({ id: bound(g.id, 'id'), on: bound(g.on, 'on') } as never));
    await s.transaction(async (tx) => {
      await insert.later(tx, { id: 'a', on: true });
      expect(await tx.select().from(g)).toHaveLength(1);
      await expect(insert.later(tx, { id: 'a', on: true })).rejects.toThrow(/UNIQUE/);
    });
    await expect(
      s.transaction(async (tx) => {
        await insert.later(tx, { id: 'b', on: true });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect((await s.db.select().from(g)).map((r) => r.id)).toEqual(['a']);
    await s.close();
  });

  it('runs statements sent together one after the other, inside the unit, and answers each', async () => {
    const s = store();
    const g = s.tables.gadgets;
    const insert = preparedWrite(s, 'insert', (db) => db.insert(g).values({ id: bound(g.id, 'id'), on: bound(g.on, 'on') } as never));
    const flip = preparedWrite<{ id: string }>(s, 'flip', (db) => db.update(g).set({ on: bound(g.on, 'on') as never }).where(eq(g.id, bound(g.id, 'id'))).returning({ id: g.id }));
    const answers = await s.transaction((tx) => sendTogether(tx, [() => insert.run(tx, { id: 'a', on: false }), () => flip.all(tx, { id: 'a', on: true })] as const));
    expect(answers).toEqual([1, [{ id: 'a' }]]);
    expect(await s.db.select({ id: g.id, on: g.on }).from(g)).toEqual([{ id: 'a', on: true }]);
    await s.close();
  });
});
