// Units of work whose writes were all held, ending in the same turn, commit together
// (pg-commit-group.ts): one transaction for the group, each unit still all or nothing, a unit the
// server refuses failing alone (and the store told of the refusal, by SQLSTATE, a deadlock's
// included), and a group whose outcome is unknown sent no second time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { defineSchema } from '../../src/platform/data/schema-kit.ts';
import { holdConnection, pgStoreWith } from '../support/databases.ts';
import type { HoldsWrites } from '../../src/platform/data/prepared-write.ts';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';

const schema = defineSchema('grouped', (k) => ({ things: k.table('things', { id: k.text('id').primaryKey() }) }));

describe('units of held writes that end in the same turn', () => {
  let pgStore: Awaited<ReturnType<typeof pgStoreWith<ReturnType<typeof schema.tables>>>>;
  let store: (typeof pgStore)['store'];
  let admin: pg.Client;
  /** The SQLSTATEs of the groups the server refused, as the store's observer heard them. */
  const refused: string[] = [];
  beforeAll(async () => {
    // A deferred unique constraint is checked when the transaction commits: at a group's Sync.
    pgStore = await pgStoreWith(schema, 'CREATE SCHEMA grouped; CREATE TABLE grouped.things (id text, CONSTRAINT things_once UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)', 4, {
      groups: { refused: (code) => refused.push(code) },
    });
    store = pgStore.store;
    admin = new pg.Client({ connectionString: pgStore.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await pgStore?.close();
  });

  type Unit = HoldsWrites & { query(config: { text: string }, values: unknown[]): Promise<unknown> };
  const unitOf = (tx: typeof store.db) => (tx as unknown as { session: { client: Unit } }).session.client;
  const hold = (tx: typeof store.db, text: string, id: string) => unitOf(tx).later(() => unitOf(tx).query({ text }, [id]));
  const insert = 'insert into grouped.things (id) values ($1)';

  /** The rows with these ids, and the transaction that wrote each. */
  async function written(ids: string[]) {
    const { rows } = await admin.query<{ id: string; xmin: string }>('select id, xmin::text from grouped.things where id = any($1) order by id', [ids]);
    return rows;
  }

  /**
   * Units that each hold one write (`text`, with their id), held at a gate until all have started,
   * then let go at once: they reach their end in the same turn.
   */
  async function atOnce(units: { id: string; text?: string }[]) {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let started = 0;
    const all = units.map(({ id, text }) =>
      store.transaction(async (tx) => {
        started++;
        await gate;
        await hold(tx, text ?? insert, id);
      }),
    );
    while (started < units.length) await new Promise((r) => setTimeout(r, 5));
    open();
    return Promise.allSettled(all);
  }

  it('commit as one transaction: every unit kept, by one transaction', async () => {
    const outcomes = await atOnce([{ id: 'one-a' }, { id: 'one-b' }, { id: 'one-c' }]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    const rows = await written(['one-a', 'one-b', 'one-c']);
    expect(rows.map((r) => r.id)).toEqual(['one-a', 'one-b', 'one-c']);
    expect(new Set(rows.map((r) => r.xmin)).size).toBe(1);
    expect(refused).toEqual([]);
  });

  it('commit as one transaction however many there are: a group is not capped at the pool’s size (4 here)', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `many-${String(i).padStart(2, '0')}`);
    const outcomes = await atOnce(ids.map((id) => ({ id })));
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true);
    const rows = await written(ids);
    expect(rows.map((r) => r.id)).toEqual(ids);
    expect(new Set(rows.map((r) => r.xmin)).size).toBe(1);
    expect(refused).toEqual([]);
  });

  it('take no connection while their writes are held: they run, and commit once a unit holding the only one lets go of it', async () => {
    const one = await pgStoreWith(schema, 'CREATE SCHEMA grouped; CREATE TABLE grouped.things (id text, CONSTRAINT things_once UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)', 1);
    try {
      const held = await holdConnection(one.store as unknown as ModuleStore);
      let ended = 0;
      const units = ['solo-a', 'solo-b', 'solo-c'].map((id) =>
        one.store.transaction(async (tx) => {
          await unitOf(tx).later(() => unitOf(tx).query({ text: insert }, [id]));
          ended++;
        }),
      );
      // Each callback reached its end with the pool's one connection held by another unit.
      const deadline = Date.now() + 60_000;
      while (ended < 3) {
        if (Date.now() > deadline) throw new Error(`only ${ended} of 3 units ran while the connection was held`);
        await new Promise((r) => setTimeout(r, 5));
      }
      await held.release();
      await Promise.all(units);
      const probe = new pg.Client({ connectionString: one.url });
      await probe.connect();
      try {
        const { rows } = await probe.query<{ id: string; xmin: string }>('select id, xmin::text from grouped.things order by id');
        expect(rows.map((r) => r.id)).toEqual(['solo-a', 'solo-b', 'solo-c']);
        expect(new Set(rows.map((r) => r.xmin)).size).toBe(1);
      } finally {
        await probe.end();
      }
    } finally {
      await one.close();
    }
  });

  it('fail alone when the server refuses one of them at the Sync: the others are kept, each by its own transaction', async () => {
    await store.transaction((tx) => hold(tx, insert, 'taken'));
    const outcomes = await atOnce([{ id: 'sync-a' }, { id: 'taken' }, { id: 'sync-c' }]);
    expect(outcomes[0]!.status).toBe('fulfilled');
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: expect.objectContaining({ message: expect.stringMatching(/things_once/) }) });
    expect(outcomes[2]!.status).toBe('fulfilled');
    const rows = await written(['sync-a', 'sync-c', 'taken']);
    expect(rows.map((r) => r.id)).toEqual(['sync-a', 'sync-c', 'taken']);
    expect(new Set(rows.map((r) => r.xmin)).size).toBe(3);
    expect(refused.splice(0)).toEqual(['23505']);
  });

  it('fail alone when one of their statements fails', async () => {
    const outcomes = await atOnce([{ id: 'stmt-a' }, { id: 'stmt-b', text: 'insert into grouped.things (id) values ($1::int / 0)' }, { id: 'stmt-c' }]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toMatch(/invalid input syntax|division by zero/);
    expect((await written(['stmt-a', 'stmt-b', 'stmt-c'])).map((r) => r.id)).toEqual(['stmt-a', 'stmt-c']);
    expect(refused.splice(0)).toEqual([expect.stringMatching(/^(22P02|22012)$/)]);
  });

  it('go again alone when the group deadlocks with another transaction, and the store hears 40P01', async () => {
    await store.transaction(async (tx) => {
      await hold(tx, insert, 'dl-x');
      await hold(tx, insert, 'dl-y');
    });
    const touch = 'update grouped.things set id = $1 where id = $1';
    // Another transaction holds dl-y; it waits long before looking for a deadlock, so the group's
    // backend, which waits first, is the one Postgres ends.
    await admin.query('BEGIN');
    await admin.query("SET LOCAL deadlock_timeout = '60s'");
    await admin.query(touch, ['dl-y']);
    const watcher = new pg.Client({ connectionString: pgStore.url });
    await watcher.connect();
    try {
      // The group takes dl-x, then waits for dl-y.
      const done = atOnce([{ id: 'dl-x', text: touch }, { id: 'dl-y', text: touch }]);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const { rows } = await watcher.query("select 1 from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()");
        if (rows.length) break;
        if (Date.now() > deadline) throw new Error('the group never waited for the row the other transaction holds');
        await new Promise((r) => setTimeout(r, 20));
      }
      // Now the other transaction wants dl-x, which the group holds: a deadlock, broken by ending the group.
      await admin.query(touch, ['dl-x']);
      await admin.query('COMMIT');
      const outcomes = await done;
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(refused.splice(0)).toEqual(['40P01']);
      // Each unit committed on its own, after the other transaction.
      const rows = await written(['dl-x', 'dl-y']);
      expect(rows.map((r) => r.id)).toEqual(['dl-x', 'dl-y']);
      expect(new Set(rows.map((r) => r.xmin)).size).toBe(2);
    } finally {
      await admin.query('ROLLBACK').catch(() => {});
      await watcher.end();
    }
  });

  it('all fail, and none is sent again, when the group’s connection is lost while it is out', async () => {
    // One of them takes long enough to end its backend while the group waits for its answer.
    const slow = "insert into grouped.things (id) select $1 from pg_sleep(30)";
    const done = atOnce([{ id: 'lost-a' }, { id: 'lost-b', text: slow }, { id: 'lost-c' }]);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await admin.query<{ pid: number }>("select pid from pg_stat_activity where query like '%pg_sleep(30)%' and pid <> pg_backend_pid() and datname = current_database()");
      if (rows[0]) {
        await admin.query('select pg_terminate_backend($1)', [rows[0].pid]);
        break;
      }
      if (Date.now() > deadline) throw new Error('the group never reached the server');
      await new Promise((r) => setTimeout(r, 20));
    }
    const outcomes = await done;
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    // Sent again alone, the other two would have been kept on their own, healthy connections.
    expect(await written(['lost-a', 'lost-b', 'lost-c'])).toEqual([]);
    // The store goes on: the dead connection was not handed out again.
    await atOnce([{ id: 'after-a' }, { id: 'after-b' }]);
    expect((await written(['after-a', 'after-b'])).map((r) => r.id)).toEqual(['after-a', 'after-b']);
    // The outcome was unknown, not refused: nothing to count.
    expect(refused).toEqual([]);
  });
});
