import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { eq, sql } from 'drizzle-orm';
import { openSqliteStore } from './sqlite-store.ts';
import { defineSchema } from './schema-kit.ts';
import { inList, preparedRead } from './prepared-read.ts';

const schema = defineSchema('gizmos', (k) => ({ gizmos: k.table('gizmos', { id: k.text('id').primaryKey(), size: k.int('size').notNull() }) }));
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A store over a gizmos table holding `rows` (SQL values), made before the store opens. */
function gizmos(rows: string) {
  const dir = mkdtempSync(join(tmpdir(), 'prepared-read-'));
  dirs.push(dir);
  const raw = new Database(join(dir, 'gizmos.sqlite'));
  raw.exec(`CREATE TABLE gizmos (id TEXT PRIMARY KEY, size INTEGER NOT NULL); INSERT INTO gizmos VALUES ${rows}`);
  raw.close();
  return openSqliteStore(schema, { dataDir: dir });
}

describe('prepared reads on SQLite', () => {
  it('reads the rows of a list of any length with one prepared statement (inList)', async () => {
    const s = gizmos("('a', 1), ('b', 2), ('c''s', 3)");
    const g = s.tables.gizmos;
    const some = preparedRead<{ id: string; size: number }>(s, 'some', (db) => db.select().from(g).where(inList(s, g.id, 'ids')).orderBy(g.id));
    expect(await some({ ids: ['a'] })).toEqual([{ id: 'a', size: 1 }]);
    expect(await some({ ids: ['c\'s', 'a', 'missing', 'a'] })).toEqual([{ id: 'a', size: 1 }, { id: "c's", size: 3 }]);
    expect(await some({ ids: [] })).toEqual([]);
    await s.close();
  });

  it('sees committed data only, whether it runs on the writer (idle) or the reader (a unit of work open)', async () => {
    const s = gizmos("('a', 1)");
    const g = s.tables.gizmos;
    const byId = preparedRead<{ id: string; size: number }>(s, 'by_id', (db) => db.select().from(g).where(eq(g.id, sql.placeholder('id'))));
    expect(await byId({ id: 'a' })).toEqual([{ id: 'a', size: 1 }]);

    let written!: () => void;
    const wrote = new Promise<void>((r) => (written = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const unit = s.transaction(async (tx) => {
      await tx.update(g).set({ size: 10 }).where(eq(g.id, 'a'));
      await tx.insert(g).values({ id: 'b', size: 2 });
      written();
      await gate;
    });
    await wrote;
    try {
      // The unit holds its writes uncommitted on the writer connection: the read must not see them.
      expect(await byId({ id: 'a' })).toEqual([{ id: 'a', size: 1 }]);
      expect(await byId({ id: 'b' })).toEqual([]);
    } finally {
      release(); // else a failed expectation leaves the unit open and the store's close waiting on it
    }
    await unit;
    expect(await byId({ id: 'a' })).toEqual([{ id: 'a', size: 10 }]);
    expect(await byId({ id: 'b' })).toEqual([{ id: 'b', size: 2 }]);

    // A unit that fails leaves nothing a read could see.
    await expect(
      s.transaction(async (tx) => {
        await tx.update(g).set({ size: 99 }).where(eq(g.id, 'a'));
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(await byId({ id: 'a' })).toEqual([{ id: 'a', size: 10 }]);
    await s.close();
  });

  it('refuses a statement that writes', async () => {
    const s = gizmos("('a', 1)");
    const g = s.tables.gizmos;
    expect(() => preparedRead(s, 'grow', (db) => db.update(g).set({ size: 2 }).returning())).toThrow(/preparedRead grow: the statement writes/);
    await s.close();
  });
});
