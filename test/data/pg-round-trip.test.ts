// Several statements in one round trip to Postgres (pg-round-trip.ts) and the unit of work's
// connection built on it (pg-unit-connection.ts), on a real server. What matters is what runs:
// nothing after a statement that failed, a held write never after the COMMIT nor outside the
// transaction, and the connection's prepared statements still in step with the server's.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { NotRun, RoundTrip } from '../../src/platform/data/pg-round-trip.ts';
import { UnitConnection } from '../../src/platform/data/pg-unit-connection.ts';
import { createTestDatabase } from '../support/databases.ts';

describe('statements in one round trip', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let client: pg.Client;
  /** Every query the client was handed: a round trip counts once. */
  let sent: string[];

  beforeAll(async () => {
    database = await createTestDatabase();
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    await c.query('CREATE TABLE things (id text PRIMARY KEY, n int)');
    await c.end();
  });
  afterAll(() => database?.drop());

  beforeEach(async () => {
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query('TRUNCATE things');
    sent = [];
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: unknown }).query = (config: unknown, ...rest: unknown[]) => {
      sent.push(config instanceof RoundTrip ? `trip:${config.size}` : typeof config === 'string' ? config : String((config as { text: string }).text));
      return query(config, ...rest);
    };
  });
  afterEach(() => client?.end());

  const ids = async () => (await client.query<{ id: string }>('select id from things order by id')).rows.map((r) => r.id);
  const insert = { name: 'insert_thing', text: 'insert into things (id, n) values ($1, $2) returning id, n' };

  describe('RoundTrip', () => {
    it('answers each statement its own rows, named and unnamed, in array mode too', async () => {
      const trip = new RoundTrip();
      const a = trip.add(insert, ['a', 1]);
      const b = trip.add({ text: 'select id, n from things where id = $1', rowMode: 'array' }, ['a']);
      const c = trip.add('select 2 as two');
      client.query(trip as never);
      await trip.done;
      expect((await a).rows).toEqual([{ id: 'a', n: 1 }]);
      expect((await b).rows).toEqual([['a', 1]]);
      expect((await c).rows).toEqual([{ two: 2 }]);
      // The named statement it prepared is the connection's now: used again, it is not parsed twice.
      expect((await client.query({ ...insert, values: ['b', 2] })).rows).toEqual([{ id: 'b', n: 2 }]);
    });

    it('runs nothing after a statement that fails, even in autocommit: the statements after it are NotRun', async () => {
      const trip = new RoundTrip();
      const first = trip.add(insert, ['before', 1]);
      const failing = trip.add('select 1/0');
      const skipped = trip.add(insert, ['after', 2]);
      client.query(trip as never);
      await expect(trip.done).rejects.toThrow(/division by zero/);
      await expect(failing).rejects.toThrow(/division by zero/);
      await expect(skipped).rejects.toBeInstanceOf(NotRun);
      // One Sync for the round trip: the statements before the failure are one implicit
      // transaction with it, so they are taken back too.
      await expect(first).resolves.toBeDefined();
      expect(await ids()).toEqual([]);
    });

    it('keeps the connection in step when a statement it would have prepared was skipped', async () => {
      const trip = new RoundTrip();
      trip.add('select 1/0').catch(() => {});
      const skipped = trip.add({ name: 'never_parsed', text: 'select $1::int + 1 as n' }, [1]);
      client.query(trip as never);
      await expect(skipped).rejects.toBeInstanceOf(NotRun);
      // Had the connection believed it prepared, this would fail with "prepared statement does not exist".
      expect((await client.query({ name: 'never_parsed', text: 'select $1::int + 1 as n', values: [41] })).rows).toEqual([{ n: 42 }]);
    });

    it('refuses, sending nothing, a name already used on the connection for another statement', async () => {
      await client.query({ name: 'taken', text: 'select 1 as one' });
      const trip = new RoundTrip();
      const first = trip.add(insert, ['never', 1]);
      const clash = trip.add({ name: 'taken', text: 'select 2 as two' });
      client.query(trip as never);
      await expect(clash).rejects.toThrow(/Prepared statements must be unique/);
      await expect(first).rejects.toBeInstanceOf(NotRun);
      expect(await ids()).toEqual([]);
    });

    it('refuses, sending nothing, one name given to two statements in the round trip', async () => {
      const trip = new RoundTrip();
      const first = trip.add({ name: 'twice', text: 'select 1 as one' });
      const clash = trip.add({ name: 'twice', text: 'select 2 as two' });
      const after = trip.add(insert, ['never', 1]);
      client.query(trip as never);
      await expect(clash).rejects.toThrow(/Prepared statements must be unique/);
      await expect(first).rejects.toBeInstanceOf(NotRun);
      await expect(after).rejects.toBeInstanceOf(NotRun);
      expect(await ids()).toEqual([]);
      // Nothing was prepared under the name: it can still be given to either statement.
      expect((await client.query({ name: 'twice', text: 'select 2 as two' })).rows).toEqual([{ two: 2 }]);
    });

    it('sends nothing when a value cannot be converted, and the connection serves the next query', async () => {
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      const trip = new RoundTrip();
      const good = trip.add(insert, ['good', 1]);
      const bad = trip.add({ text: 'select $1::jsonb' }, [circular]);
      client.query(trip as never);
      // The statement pg could not send has the error; the other, which was not sent either, NotRun.
      await expect(bad).rejects.toThrow(/circular/i);
      await expect(good).rejects.toBeInstanceOf(NotRun);
      expect(await ids()).toEqual([]);
    });

    it('sends nothing when a statement cannot be made into a query, so nothing after it runs', async () => {
      const trip = new RoundTrip();
      const good = trip.add(insert, ['good', 1]);
      // No config at all: pg's Query cannot be built from it. Sent without it, the round trip
      // would run the insert after it (a COMMIT, in a unit's).
      const unheld = trip.add(null as never);
      const after = trip.add(insert, ['after', 2]);
      client.query(trip as never);
      await expect(unheld).rejects.toThrow(TypeError);
      await expect(good).rejects.toBeInstanceOf(NotRun);
      await expect(after).rejects.toBeInstanceOf(NotRun);
      await expect(trip.done).rejects.toThrow(TypeError);
      expect(trip.refusedAStatement).toBe(true);
      expect(await ids()).toEqual([]);
      expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    });

    it('sends nothing, and closes the connection, when writing a statement fails midway', async () => {
      const con = (client as unknown as { connection: { bind(msg: unknown): void } }).connection;
      const bind = con.bind.bind(con);
      let binds = 0;
      // A fault pg's writer could meet only on something it cannot encode: here, at the second Bind,
      // after the first statement's Parse, Bind and Execute were written.
      con.bind = (msg) => {
        if (++binds === 2) throw new RangeError('cannot encode this');
        bind(msg);
      };
      const closed = new Promise((resolve) => client.once('end', resolve));
      client.on('error', () => {});
      const trip = new RoundTrip();
      const first = trip.add(insert, ['first', 1]);
      const second = trip.add(insert, ['second', 2]);
      // Queued behind another query, so pg submits it from its socket's message handler, where a
      // throw would end the process.
      const before = client.query('select pg_sleep(0.05)').catch(() => {});
      client.query(trip as never);
      await expect(second).rejects.toThrow('cannot encode this');
      await expect(first).rejects.toBeInstanceOf(NotRun);
      await before;
      await closed;
      const other = new pg.Client({ connectionString: database.url });
      await other.connect();
      try {
        expect((await other.query<{ id: string }>('select id from things')).rows).toEqual([]);
      } finally {
        await other.end();
      }
    });

    it('fails every statement when the connection dies', async () => {
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      try {
        const trip = new RoundTrip();
        // Settled while this test waits on the admin connection: assertions attached at once.
        const a = expect(trip.add('select pg_sleep(30)')).rejects.toThrow(/terminating connection/);
        const b = expect(trip.add(insert, ['never', 1])).rejects.toBeInstanceOf(NotRun);
        client.on('error', () => {});
        client.query(trip as never);
        const pid = (client as unknown as { processID: number }).processID;
        // Wait until the backend is in the sleep, then end it.
        for (let i = 0; i < 200; i++) {
          const { rows } = await admin.query(`select 1 from pg_stat_activity where pid = $1 and query like '%pg_sleep%'`, [pid]);
          if (rows.length) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        await admin.query('select pg_terminate_backend($1)', [pid]);
        await a;
        await b;
        const { rows } = await admin.query(`select id from things where id = 'never'`);
        expect(rows).toEqual([]);
      } finally {
        await admin.end();
      }
    });
  });

  describe('UnitConnection', () => {
    // The unit takes its connection from here when it first sends: this test's one client, which
    // it keeps from one unit to the next (nothing gives it back).
    const unitOn = () => {
      const unit = new UnitConnection({ connect: async () => Object.assign(client, { release() {} }) as unknown as pg.PoolClient });
      unit.start();
      return unit;
    };

    it('sends the BEGIN with the first statement and nothing at all for a unit that sent nothing', async () => {
      const unit = unitOn();
      await unit.commit();
      expect(sent).toEqual([]);
      unit.start();
      await unit.query(insert, ['a', 1]);
      await unit.query(insert, ['b', 2]);
      await unit.commit();
      expect(sent).toEqual(['trip:2', insert.text, 'COMMIT']);
      expect(await ids()).toEqual(['a', 'b']);
    });

    it('fails, running nothing more, a unit whose BEGIN and held write went in a round trip pg would not send', async () => {
      const unit = unitOn();
      await unit.later(() => unit.query(insert, ['held', 1]));
      // JSON.stringify refuses a BigInt: pg sends nothing of the round trip, BEGIN and held write included.
      await expect(unit.query({ text: 'select $1::jsonb' }, [{ big: 1n }])).rejects.toThrow(/BigInt/);
      // The unit caught that and goes on: before, this ran outside any transaction and was kept.
      await expect(unit.query(insert, ['after', 2])).rejects.toThrow(/cannot go on/);
      await expect(unit.commit()).rejects.toThrow(/cannot go on/);
      await unit.rollback();
      expect(await ids()).toEqual([]);
    });

    it('fails, rather than commit without it, a unit whose held write went in a round trip pg would not send', async () => {
      const unit = unitOn();
      await unit.query(insert, ['first', 1]);
      await unit.later(() => unit.query(insert, ['held', 2]));
      await expect(unit.query({ text: 'select $1::jsonb' }, [{ big: 1n }])).rejects.toThrow(/BigInt/);
      // Before, the COMMIT went through and kept 'first' without 'held'.
      await expect(unit.commit()).rejects.toThrow(/cannot go on/);
      await unit.rollback();
      expect(await ids()).toEqual([]);
      // The connection serves the next unit.
      unit.start();
      await unit.query(insert, ['next', 3]);
      await unit.commit();
      expect(await ids()).toEqual(['next']);
    });

    it('runs the first statement inside the transaction: a rollback after it leaves nothing', async () => {
      const unit = unitOn();
      await unit.query(insert, ['a', 1]);
      await unit.rollback();
      expect(await ids()).toEqual([]);
    });

    it('sends a held write with the COMMIT, or with the statement after it, which sees it', async () => {
      const unit = unitOn();
      await unit.query(insert, ['a', 1]);
      await unit.later(() => unit.query(insert, ['held-1', 1]));
      const seen = await unit.query({ text: 'select count(*)::int as n from things' });
      expect(seen.rows).toEqual([{ n: 2 }]);
      await unit.later(() => unit.query(insert, ['held-2', 2]));
      await unit.commit();
      // BEGIN + a; held-1 + the count; held-2 + COMMIT.
      expect(sent).toEqual(['trip:2', 'trip:2', 'trip:2']);
      expect(await ids()).toEqual(['a', 'held-1', 'held-2']);
    });

    it('sends a unit of held writes alone, no BEGIN and no COMMIT: Postgres commits them together at the Sync', async () => {
      const unit = unitOn();
      await unit.later(() => unit.query(insert, ['held-1', 1]));
      await unit.later(() => unit.query(insert, ['held-2', 2]));
      await unit.commit();
      expect(sent).toEqual(['trip:2']);
      expect(await ids()).toEqual(['held-1', 'held-2']);
      // One transaction: both rows carry the same transaction id.
      const { rows } = await client.query<{ n: number }>(`select count(distinct xmin::text)::int as n from things`);
      expect(rows).toEqual([{ n: 1 }]);
    });

    it('keeps none of a unit of held writes when one of them fails, and the connection serves the next unit', async () => {
      const unit = unitOn();
      await unit.later(() => unit.query(insert, ['dup', 1]));
      await unit.later(() => unit.query(insert, ['other', 2]));
      await unit.later(() => unit.query(insert, ['dup', 3])); // a duplicate key: the Sync rolls back the two before it
      await expect(unit.commit()).rejects.toThrow(/duplicate key/);
      await unit.rollback();
      expect(sent).toEqual(['trip:3']);
      expect(await ids()).toEqual([]);
      // Nothing was left open: the next unit commits on its own.
      unit.start();
      await unit.later(() => unit.query(insert, ['next', 1]));
      await unit.commit();
      expect(await ids()).toEqual(['next']);
      const { rows } = await client.query<{ open: boolean }>(`select now() <> statement_timestamp() as open`);
      expect(rows).toEqual([{ open: false }]);
    });

    it('never commits after a held write that failed: the COMMIT fails with its error and nothing is kept', async () => {
      const unit = unitOn();
      await unit.query(insert, ['a', 1]);
      await unit.later(() => unit.query(insert, ['a', 2])); // a duplicate key
      await expect(unit.commit()).rejects.toThrow(/duplicate key/);
      await unit.rollback();
      expect(await ids()).toEqual([]);
      // The connection serves the next unit.
      unit.start();
      await unit.query(insert, ['next', 1]);
      await unit.commit();
      expect(await ids()).toEqual(['next']);
    });

    it('fails the statement sent after a held write that failed, and keeps nothing', async () => {
      const unit = unitOn();
      await unit.later(() => unit.query(insert, ['dup', 1]));
      await unit.later(() => unit.query(insert, ['dup', 2]));
      await expect(unit.query(insert, ['c', 3])).rejects.toBeInstanceOf(NotRun);
      await unit.rollback();
      expect(await ids()).toEqual([]);
    });

    it('drops held writes on a rollback before they were sent, sending nothing', async () => {
      const unit = unitOn();
      await unit.later(() => unit.query(insert, ['held', 1]));
      await unit.rollback();
      expect(sent).toEqual([]);
      expect(await ids()).toEqual([]);
    });

    it('fails at once, sending nothing, a held write that sends two statements', async () => {
      const unit = unitOn();
      await expect(
        unit.later(() => {
          void unit.query(insert, ['one', 1]).catch(() => {});
          return unit.query(insert, ['two', 2]);
        }),
      ).rejects.toThrow(/exactly one statement/);
      await unit.rollback();
      expect(sent).toEqual([]);
      expect(await ids()).toEqual([]);
    });

    it('fails the COMMIT of a unit whose failed statement was caught: Postgres answers it with ROLLBACK', async () => {
      const unit = unitOn();
      await unit.query(insert, ['a', 1]);
      await expect(unit.query({ text: 'select 1/0' })).rejects.toThrow(/division by zero/);
      await expect(unit.commit()).rejects.toThrow(/rolled back/);
      await unit.rollback();
      expect(await ids()).toEqual([]);
    });

    it('refuses a held write that does not send its statement before it returns, with its own error when it failed', async () => {
      const unit = unitOn();
      await expect(unit.later(async () => undefined)).rejects.toThrow(/exactly one statement/);
      // A write that fails before it sends anything fails with its own error.
      await expect(unit.later(async () => Promise.reject(new Error('no such placeholder')))).rejects.toThrow('no such placeholder');
    });
  });
});
