// A Postgres unit of work (pg-store.ts): every statement of the unit inside its transaction, a
// COMMIT that fails taking everything back, and a connection that dies mid-unit failing the unit —
// without an unhandled 'error' event (which took the process down) — and never going back to the pool.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { defineSchema } from '../../src/platform/data/schema-kit.ts';
import { holdConnection, pgStoreWith } from '../support/databases.ts';
import { openPgStore } from '../../src/platform/data/pg-store.ts';
import { NestedTransactionError, OutsideUnitOfWork, StoreClosed, UnitTimedOut, type ModuleStore } from '../../src/platform/data/module-store.ts';
import { causeChain } from '../../src/platform/errors/causes.ts';
import type { HoldsWrites } from '../../src/platform/data/prepared-write.ts';
import { UnitConnection } from '../../src/platform/data/pg-unit-connection.ts';
import { NotRun } from '../../src/platform/data/not-run.ts';

const schema = defineSchema('units', (k) => ({ things: k.table('things', { id: k.text('id').primaryKey() }) }));

describe('a Postgres unit of work', () => {
  let pgStore: Awaited<ReturnType<typeof pgStoreWith<ReturnType<typeof schema.tables>>>>;
  let store: (typeof pgStore)['store'];
  let url: string;
  beforeAll(async () => {
    // A deferred unique constraint is checked at COMMIT: the way to make a COMMIT itself fail.
    pgStore = await pgStoreWith(schema, 'CREATE SCHEMA units; CREATE TABLE units.things (id text, CONSTRAINT things_once UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)', 2);
    store = pgStore.store;
    url = pgStore.url;
  });
  afterAll(() => pgStore?.close());

  const rows = async <T>(result: Promise<unknown>) => ((await result) as { rows: T[] }).rows;
  /** The ids units.things holds, read through `db` (this suite's store unless another is named). */
  const ids = async (db: typeof store.db = store.db) => (await rows<{ id: string }>(db.execute(sql`select id from units.things order by id`))).map((r) => r.id);
  const add = (tx: typeof store.db, id: string) => tx.execute(sql`insert into units.things (id) values (${id})`);
  type Unit = HoldsWrites & { query(config: { text: string }, values: unknown[]): Promise<unknown> };
  /** The unit's own connection, under drizzle's handle (pg-store.ts). */
  const unitOf = (tx: typeof store.db) => (tx as unknown as { session: { client: Unit } }).session.client;

  it('runs its first statement inside the transaction: a unit that fails after it leaves nothing', async () => {
    await expect(
      store.transaction(async (tx) => {
        await add(tx, 'first');
        throw new Error('after the first statement');
      }),
    ).rejects.toThrow('after the first statement');
    expect(await store.transaction(async (tx) => (await rows(tx.execute(sql`select pg_current_xact_id_if_assigned() is null as fresh`)))[0])).toEqual({ fresh: true });
    await store.transaction((tx) => add(tx, 'kept'));
    expect(await ids()).toEqual(['kept']);
  });

  it('takes everything back when the COMMIT itself fails, and the connection serves the next unit', async () => {
    await expect(
      store.transaction(async (tx) => {
        await add(tx, 'twice-a');
        await add(tx, 'kept'); // a duplicate, caught only at COMMIT
      }),
    ).rejects.toThrow(/things_once/);
    expect(await ids()).toEqual(['kept']);
    for (let i = 0; i < 4; i++) await store.transaction((tx) => add(tx, `after-${i}`));
    expect(await ids()).toEqual(['after-0', 'after-1', 'after-2', 'after-3', 'kept']);
  });

  it('takes everything back when the Sync that ends a unit of held writes fails its commit', async () => {
    const hold = (tx: typeof store.db, id: string) => unitOf(tx).later(() => unitOf(tx).query({ text: 'insert into units.things (id) values ($1)' }, [id]));
    await expect(
      store.transaction(async (tx) => {
        // Nothing sent before the end: the unit is its held writes, committed at their Sync.
        await hold(tx, 'sync-a');
        await hold(tx, 'kept'); // a duplicate, caught only when the unit commits
      }),
    ).rejects.toThrow(/things_once/);
    expect((await ids()).filter((id) => id === 'sync-a')).toEqual([]);
    await store.transaction((tx) => hold(tx, 'sync-b'));
    expect((await ids()).filter((id) => id.startsWith('sync-'))).toEqual(['sync-b']);
  });

  it('fails a unit whose connection dies in the middle, and the pool goes on with healthy connections', async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await expect(
      store.transaction(async (tx) => {
        await add(tx, 'lost');
        const [{ pid }] = (await rows<{ pid: number }>(tx.execute(sql`select pg_backend_pid() as pid`))) as [{ pid: number }];
        await admin.query('select pg_terminate_backend($1)', [pid]);
        await add(tx, 'lost-too');
      }),
    ).rejects.toThrow();
    await admin.end();
    for (let i = 0; i < 4; i++) await store.transaction((tx) => add(tx, `healed-${i}`));
    expect((await ids()).filter((id) => id.startsWith('lost'))).toEqual([]);
    expect((await ids()).filter((id) => id.startsWith('healed'))).toHaveLength(4);
  });

  it('hands a connection whose session the server ended to no one: a unit waiting for it gets a live one', async () => {
    // One connection (a store of its own): the second unit waits for it while the first's backend is ended.
    const one = await pgStoreWith(schema, 'CREATE SCHEMA units; CREATE TABLE units.things (id text PRIMARY KEY)', 1);
    const admin = new pg.Client({ connectionString: one.url });
    await admin.connect();
    try {
      const insert = (tx: typeof store.db, id: string) => tx.execute(sql`insert into units.things (id) values (${id})`);
      // A unit of one held write: it goes out with its Sync, no BEGIN, so there is no ROLLBACK to
      // send afterwards, whose failure would have told the unit its connection was gone.
      const first = one.store.transaction((tx) => unitOf(tx).later(() => unitOf(tx).query({ text: 'insert into units.things (id) select $1 from pg_sleep(30)' }, ['ended'])));
      // Its outcome is taken at once: the unit may fail before the terminating query answers, and
      // a rejection nobody listens to yet is reported as unhandled.
      const firstOutcome = first.then(
        () => 'committed',
        (err: unknown) => err,
      );
      const deadline = Date.now() + 60_000;
      let pid: number | undefined;
      while (pid === undefined) {
        const { rows: found } = await admin.query<{ pid: number }>("select pid from pg_stat_activity where query like '%pg_sleep(30)%' and pid <> pg_backend_pid() and datname = current_database()");
        if (found[0]) pid = found[0].pid;
        else if (Date.now() > deadline) throw new Error('the first unit never reached its sleep');
        else await new Promise((r) => setTimeout(r, 20));
      }
      // Asks the pool now, and waits: the only connection is the first unit's.
      const second = one.store.transaction((tx) => insert(tx, 'waited'));
      await admin.query('select pg_terminate_backend($1)', [pid]);
      expect(await firstOutcome).toBeInstanceOf(Error);
      // Before, the first unit's connection went back to the pool before its 'error' event, and
      // the waiting unit met the dead session.
      await expect(second).resolves.not.toThrow();
      const { rows: kept } = await admin.query<{ id: string }>('select id from units.things order by id');
      expect(kept.map((r) => r.id)).toEqual(['waited']);
    } finally {
      await admin.end();
      await one.close();
    }
  });

  it('fails at once the units waiting for a connection when the store closes', async () => {
    const one = await pgStoreWith(schema, 'CREATE SCHEMA units; CREATE TABLE units.things (id text PRIMARY KEY)', 1);
    const held = await holdConnection(one.store as unknown as ModuleStore);
    // The unit takes its connection at its first statement, which fails with the close.
    const waiting = one.store.transaction((tx) => tx.execute(sql`select 1`)).then(
      () => 'committed',
      (err: Error) => ([...causeChain(err)].some((e) => e instanceof StoreClosed) ? 'the store is closed' : err.message),
    );
    const closing = one.close();
    // Failed by the close itself, while the first unit still holds the connection: pg's pool would
    // keep it waiting until its connection timeout.
    const outcome = await waiting;
    await held.release();
    await closing;
    expect(outcome).toBe('the store is closed');
    // And a unit asked for once the store is closed is refused before its callback runs.
    let ran = false;
    await expect(one.store.transaction(async () => void (ran = true))).rejects.toBeInstanceOf(StoreClosed);
    expect(ran).toBe(false);
  });

  it('does not commit a unit whose write with a later answer could not be held (it sent its statement too late)', async () => {
    let answer: Promise<unknown> | undefined;
    const unit = store.transaction(async (tx) => {
      await add(tx, 'held-a');
      // Sends after an await: nothing is held when laterWithAnswer looks, so it cannot ride on the COMMIT.
      answer = unitOf(tx).laterWithAnswer(async () => {
        await Promise.resolve();
        return add(tx, 'held-b');
      });
    });
    // The misuse, or, when the unit's callback has returned by the time the statement is sent,
    // that statement's refusal (OutsideUnitOfWork, under drizzle's error).
    const why = async (p: Promise<unknown> | undefined) => {
      const err = (await p!.then(() => undefined, (e: Error) => e)) as (Error & { cause?: Error }) | undefined;
      return `${err?.message} ${err?.cause?.message}`;
    };
    expect(await why(unit)).toMatch(/exactly one statement|unit of work has ended/);
    expect(await why(answer)).toMatch(/exactly one statement|unit of work has ended/);
    expect((await ids()).filter((id) => id.startsWith('held'))).toEqual([]);
  });

  it('refuses a statement from work a unit left running, inside the next unit on its connection or in the pool', async () => {
    // One connection: the next unit gets the one the first unit's handle belongs to.
    const one = await pgStoreWith(schema, 'CREATE SCHEMA units; CREATE TABLE units.things (id text PRIMARY KEY)', 1);
    // Lets the second unit end, whatever fails: the store's close waits for its connection.
    let letGo = () => {};
    try {
      const insert = (tx: typeof store.db, id: string) => tx.execute(sql`insert into units.things (id) values (${id})`);
      // Branches of a Promise.all that another branch's failure abandoned, still holding `tx`.
      const strays = [0, 1].map(() => {
        let go!: () => void;
        return { gate: new Promise<void>((r) => (go = r)), go };
      });
      const left: Promise<unknown>[] = [];
      const failing = one.store.transaction(async (tx) => {
        for (const [i, stray] of strays.entries()) left.push(stray.gate.then(() => insert(tx, `stray-${i}`)));
        await Promise.all([...left, Promise.reject(new Error('branch failed'))]);
      });
      await expect(failing).rejects.toThrow('branch failed');
      // Before, it ran inside whichever unit held the connection then…
      let running!: () => void;
      const isRunning = new Promise<void>((r) => (running = r));
      const held = new Promise<void>((r) => (letGo = r));
      const next = one.store.transaction(async (tx) => {
        await insert(tx, 'next');
        running();
        await held;
      });
      await isRunning;
      strays[0]!.go();
      // drizzle wraps the store's error in its own.
      await expect(left[0]).rejects.toMatchObject({ cause: expect.any(OutsideUnitOfWork) });
      letGo();
      await next;
      // …or, the connection back in the pool, in autocommit.
      strays[1]!.go();
      await expect(left[1]).rejects.toMatchObject({ cause: expect.any(OutsideUnitOfWork) });
      expect(await ids(one.store.db as typeof store.db)).toEqual(['next']);
    } finally {
      letGo();
      await one.close();
    }
  });

  it('lets work a unit started and that outlives it open units of its own, and still refuses nesting', async () => {
    let later!: Promise<unknown>;
    await store.transaction(async () => {
      // A timer or a poller started inside a unit carries its async context; before, every unit it
      // opened afterwards was refused as nested.
      later = new Promise((r) => setTimeout(r, 1)).then(() => store.transaction((tx) => add(tx, 'outlived')));
    });
    await later;
    expect((await ids()).filter((id) => id === 'outlived')).toEqual(['outlived']);
    await expect(store.transaction(() => store.transaction(async () => undefined))).rejects.toBeInstanceOf(NestedTransactionError);
  });

  it('fails a unit that never settles at its time limit, keeps nothing of it, and frees its connection', async () => {
    // One connection, which the stuck unit would otherwise hold for ever (and close() with it).
    const one = await pgStoreWith(schema, 'CREATE SCHEMA units; CREATE TABLE units.things (id text PRIMARY KEY)', 1, { unitTimeoutMs: 300 });
    try {
      const insert = (tx: typeof store.db, id: string) => tx.execute(sql`insert into units.things (id) values (${id})`);
      let late: Promise<unknown> | undefined;
      const stuck = one.store.transaction(async (tx) => {
        await insert(tx, 'stuck');
        let wake!: () => void;
        setTimeout(() => wake(), 1000);
        await new Promise<void>((r) => (wake = r));
        // Once it has timed out, nothing it sends reaches a connection.
        late = insert(tx, 'late');
        await late;
      });
      await expect(stuck).rejects.toBeInstanceOf(UnitTimedOut);
      await one.store.transaction((tx) => insert(tx, 'next'));
      const deadline = Date.now() + 60_000;
      while (late === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await expect(late).rejects.toMatchObject({ cause: expect.any(OutsideUnitOfWork) });
      expect(await ids(one.store.db as typeof store.db)).toEqual(['next']);
    } finally {
      await one.close();
    }
  });

  it('sends nothing ahead of its BEGIN: a statement or a COMMIT made in the turn its connection comes goes after what was queued for it', async () => {
    const insert = { text: 'insert into units.things (id) values ($1)' };
    const probe = new pg.Pool({ connectionString: url, max: 1 });
    try {
      // The connection comes when the test says: the unit's first statement waits for it, and the
      // next is made in a microtask of the same turn the connection is handed over.
      const unitAwaiting = () => {
        let hand!: (c: pg.PoolClient) => void;
        const comes = new Promise<pg.PoolClient>((r) => (hand = r));
        const unit = new UnitConnection({ connect: () => comes });
        unit.start();
        return { unit, hand };
      };
      const first = unitAwaiting();
      const q1 = first.unit.query(insert, ['order-rolled-back-1']);
      let q2!: Promise<unknown>;
      first.hand(await probe.connect());
      queueMicrotask(() => (q2 = first.unit.query(insert, ['order-rolled-back-2'])));
      await q1;
      await q2;
      await first.unit.rollback();
      first.unit.end();
      // Before, the second insert went ahead of the BEGIN, autocommitted, and the rollback left it.
      expect((await ids()).filter((id) => id.startsWith('order-'))).toEqual([]);

      const second = unitAwaiting();
      const q3 = second.unit.query(insert, ['order-committed']);
      let committed!: Promise<void>;
      const client = await probe.connect();
      second.hand(client);
      queueMicrotask(() => (committed = second.unit.commit()));
      await q3;
      await committed;
      // Before, the COMMIT went first: the unit reported success with its write in a transaction left open.
      const { rows: open } = await client.query<{ open: boolean }>('select now() <> statement_timestamp() as open');
      expect(open).toEqual([{ open: false }]);
      second.unit.end();
      expect((await ids()).filter((id) => id.startsWith('order-'))).toEqual(['order-committed']);
    } finally {
      await probe.end();
    }
  });

  it('sends nothing of a unit that ended while its connection was on its way, and gives that connection back as it came', async () => {
    const probe = new pg.Pool({ connectionString: url, max: 1 });
    try {
      let hand!: (c: pg.PoolClient) => void;
      const comes = new Promise<pg.PoolClient>((r) => (hand = r));
      const unit = new UnitConnection({ connect: () => comes });
      unit.start();
      const waiting = unit.query({ text: 'insert into units.things (id) values ($1)' }, ['never-sent']);
      // As the store ends a unit that timed out: it does not wait for the connection.
      const timedOut = new UnitTimedOut(300);
      unit.abandon(timedOut);
      unit.end(timedOut);
      const client = await probe.connect();
      const sent: unknown[] = [];
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: unknown }).query = (...args: unknown[]) => (sent.push(args[0]), query(...args));
      let releasedWith: unknown = 'not released';
      const release = client.release.bind(client);
      client.release = (err?: Error | boolean) => ((releasedWith = err), release(err));
      hand(client);
      await expect(waiting).rejects.toThrow(/ended before its connection came/);
      // Before, its BEGIN and insert went out on it, and it was then closed.
      expect(sent).toEqual([]);
      expect(releasedWith).toBeUndefined();
      // A unit that had its connection and ended: what is sent on it afterwards fails rather than wait for good.
      const ended = new UnitConnection({ connect: () => probe.connect() });
      ended.start();
      await ended.query({ text: 'select 1' });
      await ended.commit();
      ended.end();
      await expect(ended.query({ text: 'select 1' })).rejects.toThrow(/has ended/);
    } finally {
      await probe.end();
    }
  });

  it('fails a unit that runs out of time waiting for its connection, which then serves the next unit outside any transaction', async () => {
    const one = await pgStoreWith(schema, 'CREATE SCHEMA units; CREATE TABLE units.things (id text PRIMARY KEY)', 1, { unitTimeoutMs: 2_000 });
    const admin = new pg.Client({ connectionString: one.url });
    await admin.connect();
    try {
      // The pool's one connection is busy with a long statement outside any unit (a unit would hit the limit itself).
      const busy = (one.store.db as typeof store.db).execute(sql`select pg_sleep(60)`).catch(() => undefined);
      const sleeper = async () => (await admin.query<{ pid: number }>("select pid from pg_stat_activity where query like 'select pg_sleep(60)%' and pid <> pg_backend_pid()")).rows[0]?.pid;
      const deadline = Date.now() + 60_000;
      while ((await sleeper()) === undefined) {
        if (Date.now() > deadline) throw new Error('the long statement never reached the server');
        await new Promise((r) => setTimeout(r, 20));
      }
      let outcome: unknown;
      const waiting = one.store.transaction((tx) => tx.execute(sql`insert into units.things (id) values ('waited-too-long')`)).then(
        () => (outcome = 'committed'),
        (err: unknown) => (outcome = err),
      );
      // It fails while the connection is still busy.
      while (outcome === undefined) {
        if (Date.now() > deadline) throw new Error('the unit did not fail at its time limit while it waited for a connection');
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(outcome).toBeInstanceOf(UnitTimedOut);
      // The next unit takes the same handle and waits for a connection too, behind the one that timed out.
      const next = one.store.transaction(async (tx) => {
        await tx.execute(sql`insert into units.things (id) values ('next')`);
        return tx.execute(sql`select pg_current_xact_id_if_assigned() is not null as in_its_own, (select count(*)::int from units.things where id = 'waited-too-long') as n`);
      });
      const pid = await sleeper();
      expect(pid).toBeDefined();
      await admin.query('select pg_cancel_backend($1)', [pid]);
      await busy;
      await waiting;
      // The connection the first waited for went back unused and serves the next unit; before,
      // the first's late failure reached the next unit through the handle they shared.
      const { rows } = (await next) as unknown as { rows: { in_its_own: boolean; n: number }[] };
      expect(rows).toEqual([{ in_its_own: true, n: 0 }]);
      const { rows: kept } = await admin.query<{ id: string }>('select id from units.things order by id');
      expect(kept.map((r) => r.id)).toEqual(['next']);
    } finally {
      await admin.end();
      await one.close();
    }
  });

  it('runs nothing outside its transaction when the round trip carrying its BEGIN could not be sent', async () => {
    const insert = { text: 'insert into units.things (id) values ($1)' };
    // JSON.stringify refuses a BigInt: pg sends nothing of the first round trip, BEGIN included.
    const unsendable = { text: 'select $1::jsonb' };
    const together = store.transaction(async (tx) => {
      const unit = unitOf(tx);
      const first = unit.query(unsendable, [{ big: 1n }]);
      const second = unit.query(insert, ['outside-1']);
      const outcomes = await Promise.allSettled([first, second]);
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    });
    await expect(together).rejects.toThrow(/cannot go on/);
    // A COMMIT made before the failure was known does not report a commit.
    const committing = store.transaction(async (tx) => {
      void unitOf(tx).query(unsendable, [{ big: 1n }]).catch(() => {});
    });
    await expect(committing).rejects.toThrow();
    // Nor when the unit has begun and a round trip of its held writes waits in pg's queue behind a
    // statement still running: a COMMIT made meanwhile does not commit without them.
    let behind!: Promise<unknown>;
    const withoutHeld = store.transaction(async (tx) => {
      const unit = unitOf(tx);
      await unit.query(insert, ['outside-first']);
      void unit.query({ text: 'select pg_sleep(0.2)' }, []).catch(() => {});
      void unit.later(() => unit.query(unsendable, [{ big: 1n }]));
      behind = unit.query({ text: 'select 1' }, []);
      behind.catch(() => {});
      // The callback returns at once: its COMMIT is made before pg has tried that round trip.
    });
    await expect(withoutHeld).rejects.toMatchObject({ cause: expect.objectContaining({ message: expect.stringMatching(/BigInt/) }) });
    await expect(behind).rejects.toBeInstanceOf(NotRun);
    // Before, the second insert ran in autocommit and was kept; the third unit committed its first insert without its held write.
    expect((await ids()).filter((id) => id.startsWith('outside-'))).toEqual([]);
    // The connection serves the next unit.
    await store.transaction((tx) => add(tx, 'outside-then'));
    expect((await ids()).filter((id) => id.startsWith('outside-'))).toEqual(['outside-then']);
  });

  it('refuses a held write with a later answer from work an ended unit left running, without failing the unit now on its handle', async () => {
    const one = await pgStoreWith(schema, 'CREATE SCHEMA units; CREATE TABLE units.things (id text PRIMARY KEY)', 1);
    try {
      let stale: Promise<unknown> | undefined;
      await one.store.transaction(async (tx) => {
        const unit = unitOf(tx as typeof store.db);
        setTimeout(() => {
          stale = unit.laterWithAnswer(() => unit.query({ text: 'insert into units.things (id) values ($1)' }, ['stale']));
          stale.catch(() => {}); // read below
        }, 50);
      });
      // The next unit takes the same handle (the store keeps one idle), and is still running when the stale write comes.
      await one.store.transaction(async (tx) => {
        await tx.execute(sql`insert into units.things (id) values ('next')`);
        const deadline = Date.now() + 60_000;
        while (stale === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      });
      await expect(stale).rejects.toBeInstanceOf(OutsideUnitOfWork);
      expect(await ids(one.store.db as typeof store.db)).toEqual(['next']);
    } finally {
      await one.close();
    }
  });

  it('fails the units of a commit group that gets no connection because the store closes, rather than leave them waiting', async () => {
    const one = await pgStoreWith(schema, 'CREATE SCHEMA units; CREATE TABLE units.things (id text PRIMARY KEY)', 1);
    const held = await holdConnection(one.store as unknown as ModuleStore);
    const grouped = one.store.transaction((tx) => unitOf(tx as typeof store.db).later(() => unitOf(tx as typeof store.db).query({ text: 'insert into units.things (id) values ($1)' }, ['grouped']))).then(
      () => 'committed',
      (err: unknown) => (err instanceof StoreClosed ? 'the store is closed' : String(err)),
    );
    // Its group waits for the pool's one connection, which the other unit holds.
    await new Promise((r) => setTimeout(r, 50));
    const closing = one.close();
    expect(await grouped).toBe('the store is closed');
    await held.release();
    await closing;
  });

  it("cancels the running statement of a unit that timed out, so its backend lets go of the unit's locks", async () => {
    const one = await pgStoreWith(schema, 'CREATE SCHEMA units; CREATE TABLE units.things (id text PRIMARY KEY)', 1, { unitTimeoutMs: 300 });
    // The next unit, on a store of its own with the default limit, so a slow machine cannot time it out.
    const other = openPgStore(schema, { url: one.url, poolMax: 1 });
    try {
      const insert = (tx: typeof store.db, id: string) => tx.execute(sql`insert into units.things (id) values (${id})`);
      const stuck = one.store.transaction(async (tx) => {
        await insert(tx, 'k');
        await tx.execute(sql`select pg_sleep(600)`);
      });
      await expect(stuck).rejects.toBeInstanceOf(UnitTimedOut);
      // The same key: before, this waited for the stuck backend's lock on 'k' until its sleep ended.
      await other.transaction((tx) => insert(tx, 'k'));
      expect(await ids(other.db as typeof store.db)).toEqual(['k']);
    } finally {
      await other.close();
      await one.close();
    }
  });

  it('drops a connection whose round trip failed while it was being written: the next unit and read go on a fresh one', async () => {
    const one = await pgStoreWith(schema, 'CREATE SCHEMA units; CREATE TABLE units.things (id text PRIMARY KEY)', 1);
    // pg's writer fails only on what it cannot encode; here, the Bind of one marked value.
    const connection = Object.getPrototypeOf((new pg.Client() as unknown as { connection: object }).connection) as { bind(msg: { values?: unknown[] }): void };
    const bind = connection.bind;
    connection.bind = function (msg) {
      if (msg.values?.includes('unwritable')) throw new RangeError('cannot encode this');
      return bind.call(this, msg);
    };
    try {
      const insert = (tx: typeof store.db, id: string) => unitOf(tx).later(() => unitOf(tx).query({ text: 'insert into units.things (id) values ($1)' }, [id]));
      await expect(one.store.transaction((tx) => insert(tx, 'unwritable'))).rejects.toThrow('cannot encode this');
      // A pool of one: before, the next unit was handed the closed connection and failed.
      await one.store.transaction((tx) => insert(tx, 'next'));
      expect(await ids(one.store.db as typeof store.db)).toEqual(['next']);
    } finally {
      connection.bind = bind;
      await one.close();
    }
  });
});
