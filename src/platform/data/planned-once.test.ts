// A LIMIT given with fixedLimit is part of the statement's text on both engines (not a bound
// parameter, which SQLite plans anew on every run), limits the rows as `.limit(n)` does, and
// refuses anything that is not a whole number of rows. textEquals compares through a cast, with
// the same rows as an equality.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { asc, eq, sql } from 'drizzle-orm';
import { drizzle as sqliteDrizzle } from 'drizzle-orm/better-sqlite3';
import { drizzle as pgDrizzle } from 'drizzle-orm/node-postgres';
import { integer, pgTable, text as pgText } from 'drizzle-orm/pg-core';
import { integer as sqliteInteger, sqliteTable, text as sqliteText } from 'drizzle-orm/sqlite-core';
import { fixedLimit, textEquals } from './planned-once.ts';
import { openSqliteStore } from './sqlite-store.ts';
import { defineSchema } from './schema-kit.ts';
import { preparedRead } from './prepared-read.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('fixedLimit', () => {
  it('writes the LIMIT into the SQL text on SQLite and on Postgres, with no parameter for it', () => {
    const lite = sqliteTable('gizmos', { id: sqliteText('id').primaryKey(), size: sqliteInteger('size') });
    const q = sqliteDrizzle({ client: new Database(':memory:') }).select().from(lite).where(eq(lite.id, 'a')).limit(fixedLimit(1)).toSQL();
    expect(q.sql).toMatch(/ limit 1$/);
    expect(q.params).toEqual(['a']);
    // What drizzle does with a plain number, for contrast: a bound parameter.
    const bound = sqliteDrizzle({ client: new Database(':memory:') }).select().from(lite).limit(1).toSQL();
    expect(bound.sql).toMatch(/ limit \?$/);

    const pgT = pgTable('gizmos', { id: pgText('id').primaryKey(), size: integer('size') });
    const pq = pgDrizzle.mock().select().from(pgT).where(eq(pgT.id, 'a')).limit(fixedLimit(25)).toSQL();
    expect(pq.sql).toMatch(/ limit 25$/);
    expect(pq.params).toEqual(['a']);
  });

  it('limits the rows a prepared read returns', async () => {
    const schema = defineSchema('gizmos', (k) => ({ gizmos: k.table('gizmos', { id: k.text('id').primaryKey(), size: k.int('size').notNull() }) }));
    const dir = mkdtempSync(join(tmpdir(), 'planned-once-'));
    dirs.push(dir);
    const raw = new Database(join(dir, 'gizmos.sqlite'));
    raw.exec(`CREATE TABLE gizmos (id TEXT PRIMARY KEY, size INTEGER NOT NULL); INSERT INTO gizmos VALUES ('a', 1), ('b', 2), ('c', 3)`);
    raw.close();
    const s = openSqliteStore(schema, { dataDir: dir });
    const g = s.tables.gizmos;
    const firstTwo = preparedRead<{ id: string }>(s, 'first_two', (db) => db.select({ id: g.id }).from(g).where(sql`${g.size} >= ${sql.placeholder('min')}`).orderBy(asc(g.id)).limit(fixedLimit(2)));
    expect(await firstTwo({ min: 1 })).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect(await firstTwo({ min: 3 })).toEqual([{ id: 'c' }]);
    await s.close();
  });

  it('refuses a count that is not a whole number of rows', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => fixedLimit(bad)).toThrow(RangeError);
    expect(() => fixedLimit(0)).not.toThrow();
  });
});

describe('textEquals', () => {
  it('compares the column with its value cast to text, the value still bound, on both engines', () => {
    const lite = sqliteTable('gizmos', { id: sqliteText('id').primaryKey(), owner: sqliteText('owner') });
    const q = sqliteDrizzle({ client: new Database(':memory:') }).select().from(lite).where(textEquals(lite.owner, 'ann')).orderBy(lite.id).toSQL();
    expect(q.sql).toMatch(/"owner" = cast\(\? as text\) order by/);
    expect(q.params).toEqual(['ann']);
    const pgT = pgTable('gizmos', { id: pgText('id').primaryKey(), owner: pgText('owner') });
    const pq = pgDrizzle.mock().select().from(pgT).where(textEquals(pgT.owner, 'ann')).toSQL();
    expect(pq.sql).toMatch(/"owner" = cast\(\$1 as text\)/);
    expect(pq.params).toEqual(['ann']);
  });

  it('finds the rows an equality finds', () => {
    const client = new Database(':memory:');
    client.exec(`CREATE TABLE gizmos (id TEXT PRIMARY KEY, owner TEXT); CREATE INDEX gizmos_owner ON gizmos (owner, id); INSERT INTO gizmos VALUES ('a', 'ann'), ('b', 'bob'), ('c', 'ann')`);
    const lite = sqliteTable('gizmos', { id: sqliteText('id').primaryKey(), owner: sqliteText('owner') });
    const db = sqliteDrizzle({ client });
    expect(db.select({ id: lite.id }).from(lite).where(textEquals(lite.owner, 'ann')).orderBy(lite.id).all()).toEqual([{ id: 'a' }, { id: 'c' }]);
    expect(db.select({ id: lite.id }).from(lite).where(textEquals(lite.owner, 'nobody')).all()).toEqual([]);
  });
});
