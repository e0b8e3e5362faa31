// The kernel's sweeps of expired idempotency keys and old inbox rows, on a store alone and on both
// engines: every due row goes and no other, a bounded batch a statement, so a backlog of any size
// is many short writes rather than one long one that live units of work would wait behind. And on
// SQLite's single writer, a unit that arrives during a long sweep or outbox retention pass goes
// between two of its batches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asc, sql } from 'drizzle-orm';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import { ordersSchema } from '../../src/modules/orders/db/schema.ts';
import { sweepIdempotencyKeys } from '../../src/platform/http/idempotency.ts';
import { pruneInbox } from '../../src/platform/bus/inbox-consumer.ts';
import { outboxRetention } from '../../src/platform/bus/outbox-retention.ts';
import { engines } from '../support/boot.ts';
import { storeOn, withWriteStatement } from '../support/store-on-engine.ts';

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
    const watched = withWriteStatement(store, async (fn) => {
      const rows = await store.writeStatement(fn);
      sizes.push((rows as unknown[]).length);
      return rows;
    });
    return { store: watched, sizes };
  };

  it('sweeps every expired idempotency key, a batch at a time, and keeps the live ones', async () => {
    const t = store.tables.idempotencyKeys;
    const past = new Date(Date.now() - HOUR);
    await store.transaction(async (tx) => {
      await tx.insert(t).values([...expiring(13, 'POST /a', past), ...expiring(10, 'POST /b', past), ...expiring(3, 'POST /live', new Date(Date.now() + HOUR))]);
    });
    const { store: watched, sizes } = counted();
    expect(await sweepIdempotencyKeys(watched, { batch: 5 })).toBe(23);
    // 23 rows, 5 a statement: four full batches, one of 3, and no statement more.
    expect(sizes).toEqual([5, 5, 5, 5, 3]);
    expect(await keysIn(store)).toEqual(['POST /live/POST /live-0', 'POST /live/POST /live-1', 'POST /live/POST /live-2']);
    // Nothing due: one statement that finds nothing.
    const again = counted();
    expect(await sweepIdempotencyKeys(again.store, { batch: 5 })).toBe(0);
    expect(again.sizes).toEqual([0]);
  });

  it('starts no further statement once told to stop: what is still due waits for the next sweep', async () => {
    const t = store.tables.idempotencyKeys;
    await store.transaction(async (tx) => {
      await tx.insert(t).values(expiring(12, 'POST /stopped', new Date(Date.now() - HOUR)));
    });
    const stopping = new AbortController();
    const { store: watched, sizes } = counted();
    // Stopped as the first statement is sent: it completes, no second one starts.
    const stopped = withWriteStatement(watched, (fn) => (stopping.abort(), watched.writeStatement(fn)));
    expect(await sweepIdempotencyKeys(stopped, { batch: 5, signal: stopping.signal })).toBe(5);
    expect(sizes).toEqual([5]);
    expect((await keysIn(store)).filter((k) => k.startsWith('POST /stopped'))).toHaveLength(7);
    expect(await sweepIdempotencyKeys(store, { batch: 5 })).toBe(7);
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
    expect(await pruneInbox(watched, new Date(Date.now() - 14 * 24 * HOUR), { batch: 4 })).toBe(13);
    // 13 rows, 4 a statement: the last batch is short and ends the sweep.
    expect(sizes).toEqual([4, 4, 4, 1]);
    const left = (await store.db.select({ eventId: i.eventId, handler: i.handler }).from(i).orderBy(asc(i.eventId), asc(i.handler))) as { eventId: string; handler: string }[];
    expect(left).toEqual([
      { eventId: 'both', handler: 'B.v1' },
      { eventId: 'young', handler: 'A.v1' },
    ]);
  });
});

// A sweep that finds nothing due must not read the table to say so: the idempotency sweep runs
// every minute and the table holds a day of keys (on SQLite the read holds the writer). Each
// sweep's statement, asked for its plan on a table of many rows of which few are due, reads
// through the index on its due column.
describe.each(engines)('housekeeping reads on %s', (engine) => {
  let store: ModuleStore;
  let close: () => Promise<void>;
  beforeAll(async () => ({ store, close } = await storeOn(engine, ordersSchema)));
  afterAll(() => close?.());

  /** The plan of each statement `sweep` sends, as the engine describes it, in one string each. */
  const plansOf = async (sweep: (watched: ModuleStore) => Promise<number>): Promise<string[]> => {
    const statements: { sql: string; params: unknown[] }[] = [];
    await sweep(
      withWriteStatement(store, (fn) => {
        const query = fn(store.db) as unknown as { toSQL(): { sql: string; params: unknown[] } };
        statements.push(query.toSQL());
        return store.writeStatement(fn);
      }),
    );
    return Promise.all(
      statements.map(async ({ sql: text, params }) => {
        if (store.engine.dialect === 'sqlite') {
          const reader = (store.engine.reader as unknown as { $client: { prepare(s: string): { all(...p: unknown[]): { detail: string }[] } } }).$client;
          return reader.prepare(`explain query plan ${text}`).all(...params).map((r) => r.detail).join('\n');
        }
        const pool = (store.engine.pool as unknown as { $client: { query(s: string, p: unknown[]): Promise<{ rows: { 'QUERY PLAN': string }[] }> } }).$client;
        return (await pool.query(`explain ${text}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n');
      }),
    );
  };

  it('finds the due idempotency keys and inbox rows through their due columns\' indexes', async () => {
    const t = store.tables.idempotencyKeys;
    const i = store.tables.inbox;
    const now = Date.now();
    for (let chunk = 0; chunk < 20; chunk++) {
      // 20,000 of each, the first 10 due: a table most of whose rows the sweep must not read.
      const keys = Array.from({ length: 1000 }, (_, n) => chunk * 1000 + n);
      await store.transaction(async (tx) => {
        await tx.insert(t).values(keys.map((n) => ({ ...expiring(1, 'POST /kept', new Date(n < 10 ? now - HOUR : now + HOUR + n))[0]!, key: `k-${n}` })));
        await tx.insert(i).values(keys.map((n) => ({ eventId: `e-${n}`, handler: 'A.v1', handledAt: new Date(n < 10 ? now - 10 * 24 * HOUR : now + n) })));
      });
    }
    if (engine === 'pg') await store.db.execute(sql`analyze`);

    const idempotency = await plansOf((watched) => sweepIdempotencyKeys(watched));
    const inbox = await plansOf((watched) => pruneInbox(watched, new Date(now - 24 * HOUR)));
    // Each found its 10 rows in one statement, whose plan names the index and reads no table whole.
    const wholeTable = engine === 'sqlite' ? /\bSCAN platform_/ : /Seq Scan/;
    expect(idempotency).toHaveLength(1);
    expect(idempotency[0]).toContain('platform_idempotency_keys_expires_at_idx');
    expect(idempotency[0]).not.toMatch(wholeTable);
    expect(inbox).toHaveLength(1);
    expect(inbox[0]).toContain('platform_inbox_handled_at_idx');
    expect(inbox[0]).not.toMatch(wholeTable);
    expect(await sweepIdempotencyKeys(store)).toBe(0);
    expect(await pruneInbox(store, new Date(now - 24 * HOUR))).toBe(0);
  });
});

// On SQLite every write goes through the one writer: a sweep in one statement would hold it, and
// every unit queued behind, for as long as the backlog takes; so would a loop of batches that
// never let the event loop turn (each batch joining the writer's queue as the last one commits).
describe('housekeeping on the SQLite writer', () => {
  let store: ModuleStore;
  let close: () => Promise<void>;
  beforeAll(async () => ({ store, close } = await storeOn('sqlite', ordersSchema)));
  afterAll(() => close?.());

  /**
   * Runs `pass` and, from a later callback of the event loop (as a request's unit arrives), a unit
   * of work of one insert; resolves to the order the two ended in.
   */
  let during = 0;
  const unitDuring = async (pass: () => Promise<unknown>) => {
    const settled: string[] = [];
    const scope = `POST /live-during-${during++}`;
    const running = pass().then(() => settled.push('pass'));
    const unit = new Promise((queued) =>
      setImmediate(() =>
        queued(
          store
            .transaction(async (tx) => {
              await tx.insert(store.tables.idempotencyKeys).values(expiring(1, scope, new Date(Date.now() + HOUR)));
            })
            .then(() => settled.push('unit')),
        ),
      ),
    );
    await running;
    await (await unit);
    return settled;
  };

  it('lets a unit of work that arrives during a long sweep commit before the sweep ends', async () => {
    const t = store.tables.idempotencyKeys;
    await store.transaction(async (tx) => {
      await tx.insert(t).values(expiring(2_000, 'POST /backlog', new Date(Date.now() - HOUR)));
    });
    // The writer took the unit between two of the sweep's statements, not after all twenty.
    expect(await unitDuring(() => sweepIdempotencyKeys(store, { batch: 100 }))).toEqual(['unit', 'pass']);
    expect((await keysIn(store)).filter((k) => k.startsWith('POST /backlog'))).toEqual([]);
    expect(await keysIn(store)).toContain('POST /live-during-0/POST /live-during-0-0');
  });

  it('lets a unit of work that arrives during a long outbox retention pass commit before the pass ends', async () => {
    const old = new Date(Date.now() - 30 * 24 * HOUR);
    const ids = Array.from({ length: 2_000 }, (_, i) => `old-${i}`);
    await store.transaction(async (tx) => {
      for (const id of ids) {
        const envelope = { id, type: 'Gone', version: 1, source: 'orders', occurredAt: old.toISOString(), correlationId: id, payload: {} };
        await store.platform.appendOutbox(tx, { id, type: 'Gone.v1', envelope, createdAt: old });
      }
    });
    const o = store.tables.outbox;
    const seqs = ((await store.db.select({ seq: o.seq }).from(o)) as { seq: number }[]).map((r) => r.seq);
    await store.transaction((tx) => store.platform.markDispatched(tx, seqs, new Date()));
    // Four batches of the pass's 500.
    expect(await unitDuring(() => outboxRetention(store, []).prune(new Date(Date.now() - 14 * 24 * HOUR)))).toEqual(['unit', 'pass']);
    expect(await store.db.select({ seq: o.seq }).from(o)).toEqual([]);
  });
});
