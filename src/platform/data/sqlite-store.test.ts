import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count, sql } from 'drizzle-orm';
import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite-store.ts';
import { WRITER_FALLBACK_PAGES } from './wal-checkpointer.ts';
import Database from 'better-sqlite3';
import { defineSchema } from './schema-kit.ts';
import { NestedTransactionError, OutsideUnitOfWork, StoreClosed, type Db } from './module-store.ts';
import { GroupCommitter, TransactionLost, UnitTimedOut } from './group-commit.ts';

const widgetSchema = defineSchema('widgets', (k) => ({
  products: k.table('products', { sku: k.text('sku').primaryKey(), name: k.text('name').notNull() }),
}));

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

// Group commit's time cap set beyond any stall: these tests assert which units share a transaction,
// and on a busy machine the default 10 ms could split a group between two units.
async function store(options: Omit<SqliteStoreOptions, 'dataDir'> = { groupCommit: { maxMs: 600_000 } }) {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-store-'));
  dirs.push(dir);
  const raw = new Database(join(dir, 'widgets.sqlite'));
  raw.exec('CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT NOT NULL)');
  raw.close();
  return openSqliteStore(widgetSchema, { ...options, dataDir: dir });
}

const row = (sku: string) => ({ sku, name: sku });

/** The store's writer connection, under drizzle. */
const writerOf = (s: Awaited<ReturnType<typeof store>>) => (s.engine as unknown as { writer: { $client: Database.Database } }).writer.$client;
/** Its reader connection, under drizzle. */
const readerOf = (s: Awaited<ReturnType<typeof store>>) => (s.engine as unknown as { reader: { $client: Database.Database } }).reader.$client;

/** A promise the test opens when it wants: a unit awaiting it holds the writer while others queue. */
function gated() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return { gate, release };
}

describe('SQLite unit of work', () => {
  it('never interleaves two concurrent async transactions', async () => {
    const s = await store();
    const log: string[] = [];
    const work = (name: string) =>
      s.transaction(async (tx) => {
        log.push(`${name}:begin`);
        await tx.insert(s.tables.products).values(row(name));
        await new Promise((r) => setTimeout(r, 5));
        log.push(`${name}:end`);
      });
    await Promise.all(['A', 'B', 'C'].map(work));
    expect(log).toEqual(['A:begin', 'A:end', 'B:begin', 'B:end', 'C:begin', 'C:end']);
    await s.close();
  });

  it('rolls back everything when the callback throws, and the next transaction still works', async () => {
    const s = await store();
    await expect(
      s.transaction(async (tx) => {
        await tx.insert(s.tables.products).values(row('GONE'));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('KEPT'));
    });
    const rows = await s.db.select({ sku: s.tables.products.sku }).from(s.tables.products);
    expect(rows).toEqual([{ sku: 'KEPT' }]);
    await s.close();
  });

  it('reads only committed data while a transaction is open', async () => {
    const s = await store();
    let seenInside = -1;
    await s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('PENDING'));
      seenInside = (await s.db.select({ n: count() }).from(s.tables.products))[0]!.n;
    });
    expect(seenInside).toBe(0);
    expect((await s.db.select({ n: count() }).from(s.tables.products))[0]!.n).toBe(1);
    await s.close();
  });

  it('refuses writes on the read handle and nested transactions', async () => {
    const s = await store();
    await expect(Promise.resolve().then(() => s.db.insert(s.tables.products).values(row('NO')))).rejects.toThrow(/readonly|query_only|attempt to write/i);
    await expect(s.transaction(() => s.transaction(async () => 1))).rejects.toBeInstanceOf(NestedTransactionError);
    await s.close();
  });

  it('commits units that queued up together, and settles none of them before that commit', async () => {
    const s = await store();
    const seen: string[] = [];
    const { gate, release } = gated();
    const a = s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('A'));
      await gate; // B and C queue up meanwhile and join A's transaction
    }).then(() => seen.push('A settled'));
    const b = s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('B'));
    }).then(() => seen.push('B settled'));
    const c = s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('C'));
      // A and B ran before C in the same transaction: C sees their rows, readers do not yet.
      seen.push(`C sees ${(await tx.select({ n: count() }).from(s.tables.products))[0]!.n}, readers see ${(await s.db.select({ n: count() }).from(s.tables.products))[0]!.n}`);
    }).then(() => seen.push('C settled'));
    release();
    await Promise.all([a, b, c]);
    // One commit for the three: nothing was visible to readers, nor settled, before it.
    expect(seen).toEqual(['C sees 3, readers see 0', 'A settled', 'B settled', 'C settled']);
    expect((await s.db.select({ n: count() }).from(s.tables.products))[0]!.n).toBe(3);
    await s.close();
  });

  it('runs the units started in one event-loop turn in one transaction, with no unit holding it open', async () => {
    const s = await store();
    const seen: string[] = [];
    const units = ['A', 'B', 'C'].map((sku) =>
      s.transaction(async (tx) => {
        await tx.insert(s.tables.products).values(row(sku));
        seen.push(`${sku}: tx sees ${(await tx.select({ n: count() }).from(s.tables.products))[0]!.n}, readers see ${(await s.db.select({ n: count() }).from(s.tables.products))[0]!.n}`);
      }),
    );
    await Promise.all(units);
    expect(seen).toEqual(['A: tx sees 1, readers see 0', 'B: tx sees 2, readers see 0', 'C: tx sees 3, readers see 0']);
    await s.close();
  });

  it('tells a unit that failed in a shared transaction only once that transaction has ended, and the others kept their writes', async () => {
    const s = await store();
    const count3 = async () => (await s.db.select({ n: count() }).from(s.tables.products))[0]!.n;
    let readersAtRejection = -1;
    const ok1 = s.transaction(async (tx) => tx.insert(s.tables.products).values(row('OK1')));
    const failing = s
      .transaction(async (tx) => {
        await tx.insert(s.tables.products).values(row('HALF'));
        throw new Error('fails midway');
      })
      .catch(async (err: Error) => {
        // The committed rows of its neighbours are visible: the transaction is over.
        readersAtRejection = await count3();
        return err.message;
      });
    const ok2 = s.transaction(async (tx) => tx.insert(s.tables.products).values(row('OK2')));
    expect(await Promise.all([ok1, failing, ok2]).then((r) => r[1])).toBe('fails midway');
    expect(readersAtRejection).toBe(2);
    const rows = await s.db.select({ sku: s.tables.products.sku }).from(s.tables.products).orderBy(s.tables.products.sku);
    expect(rows).toEqual([{ sku: 'OK1' }, { sku: 'OK2' }]);
    await s.close();
  });

  it('rolls back only the unit that failed in a shared commit', async () => {
    const s = await store();
    const { gate, release } = gated();
    const first = s.transaction(async () => gate);
    const results = await Promise.allSettled([
      first,
      s.transaction(async (tx) => tx.insert(s.tables.products).values(row('KEEP1'))),
      s.transaction(async (tx) => {
        await tx.insert(s.tables.products).values(row('DROP'));
        throw new Error('this unit fails');
      }),
      s.transaction(async (tx) => tx.insert(s.tables.products).values(row('KEEP1'))), // duplicate key: fails
      s.transaction(async (tx) => tx.insert(s.tables.products).values(row('KEEP2'))),
      (release(), first),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled']);
    const rows = await s.db.select({ sku: s.tables.products.sku }).from(s.tables.products).orderBy(s.tables.products.sku);
    expect(rows).toEqual([{ sku: 'KEEP1' }, { sku: 'KEEP2' }]);
    await s.close();
  });

  it('rolls back a failing first unit of a group alone; the units queued behind it still commit', async () => {
    const s = await store();
    const { gate, release } = gated();
    // The first unit runs without a savepoint; its failure must take only its own writes with it.
    const first = s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('DROP'));
      await gate;
      throw new Error('first unit fails');
    });
    const queued = [
      s.transaction(async (tx) => tx.insert(s.tables.products).values(row('KEEP1'))),
      s.transaction(async (tx) => tx.insert(s.tables.products).values(row('KEEP2'))),
    ];
    release();
    const results = await Promise.allSettled([first, ...queued]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    const rows = await s.db.select({ sku: s.tables.products.sku }).from(s.tables.products).orderBy(s.tables.products.sku);
    expect(rows).toEqual([{ sku: 'KEEP1' }, { sku: 'KEEP2' }]);
    await s.close();
  });

  it('fails every unit of a shared commit that SQLite rolled back as a whole', async () => {
    const s = await store();
    const { gate, release } = gated();
    const first = s.transaction(async () => gate);
    const earlier = s.transaction(async (tx) => tx.insert(s.tables.products).values(row('LOST')));
    // What an I/O or disk-full error does to the whole transaction, done by hand.
    const breaker = s.transaction(async (tx) => {
      await (tx as unknown as { run(q: ReturnType<typeof sql>): Promise<unknown> }).run(sql`ROLLBACK`);
      throw new Error('disk full');
    });
    const later = s.transaction(async (tx) => tx.insert(s.tables.products).values(row('LATER')));
    release();
    const [f, e, b, l] = await Promise.allSettled([first, earlier, breaker, later]);
    expect(f.status).toBe('rejected');
    expect(b).toMatchObject({ status: 'rejected', reason: { message: 'disk full' } });
    expect(e).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/rolled back by SQLite: disk full/) } });
    expect(l.status).toBe('fulfilled');
    const rows = await s.db.select({ sku: s.tables.products.sku }).from(s.tables.products);
    expect(rows).toEqual([{ sku: 'LATER' }]);
    await s.close();
  });

  it('keeps statement journals and temporary b-trees in memory on both connections, not in temp files', async () => {
    // A unit after the first of a group runs in a savepoint, so its writes keep a statement
    // journal; in temp files that was about 25 write syscalls an order on the orders path.
    const s = await store();
    expect(writerOf(s).pragma('temp_store', { simple: true })).toBe(2);
    expect(readerOf(s).pragma('temp_store', { simple: true })).toBe(2);
    await s.close();
  });

  it('checkpoints the WAL into the database file off the event loop, with no commit doing it', async () => {
    const s = await store();
    const file = join(dirs.at(-1)!, 'widgets.sqlite');
    // ~3 MB of WAL (~800 pages), well below the writer's own threshold (WRITER_FALLBACK_PAGES):
    // only the background checkpointer can have moved it into the database file.
    expect(WRITER_FALLBACK_PAGES * 4096).toBeGreaterThan(6_000_000);
    const name = 'x'.repeat(2000);
    for (let batch = 0; batch < 15; batch++) {
      await s.transaction(async (tx) => {
        await tx.insert(s.tables.products).values(Array.from({ length: 100 }, (_, i) => ({ sku: `${batch}-${i}`, name })));
      });
    }
    const deadline = Date.now() + 5000;
    while (statSync(file).size < 2_500_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(statSync(file).size).toBeGreaterThan(2_500_000);
    await s.close();
  });

  it("runs each unit in its own caller's async context", async () => {
    const s = await store();
    const ctx = new AsyncLocalStorage<string>();
    const seen: string[] = [];
    const { gate, release } = gated();
    const units = ['one', 'two', 'three'].map((name, i) =>
      ctx.run(name, () =>
        s.transaction(async () => {
          if (i === 0) await gate;
          seen.push(ctx.getStore()!);
        }),
      ),
    );
    release();
    await Promise.all(units);
    expect(seen).toEqual(['one', 'two', 'three']);
    await s.close();
  });

  it('runs a unit queued by the settling of the last one (a dead letter written after a failure)', async () => {
    const s = await store();
    const failed = s.transaction(async () => {
      throw new Error('handler failed');
    });
    const followUp = failed.catch(() => s.transaction(async (tx) => tx.insert(s.tables.products).values(row('AFTER'))));
    await followUp;
    // And after a successful one.
    await s.transaction(async () => undefined).then(() => s.transaction(async (tx) => tx.insert(s.tables.products).values(row('NEXT'))));
    expect((await s.db.select({ n: count() }).from(s.tables.products))[0]!.n).toBe(2);
    await s.close();
  });

  it('lets the event loop turn between groups: a unit that arrives during a long chain of units commits before the chain ends', async () => {
    const s = await store();
    const settled: string[] = [];
    // Each unit of the chain starts as the last one commits, as a loop of batches does.
    const chain = (async () => {
      for (let i = 0; i < 50; i++) await s.transaction((tx) => tx.insert(s.tables.products).values(row(`CHAIN-${i}`)));
      settled.push('chain');
    })();
    // From a later callback of the event loop, as a request's unit comes: before, it was not even
    // started until the whole chain had committed.
    const arriving = new Promise((queued) => setImmediate(() => queued(s.transaction((tx) => tx.insert(s.tables.products).values(row('ARRIVED'))).then(() => settled.push('arrived')))));
    await chain;
    await (await arriving);
    expect(settled).toEqual(['arrived', 'chain']);
    expect((await s.db.select({ n: count() }).from(s.tables.products))[0]!.n).toBe(51);
    await s.close();
  });

  const rawRun = (tx: unknown, statement: string) => (tx as { run(q: ReturnType<typeof sql>): Promise<unknown> }).run(sql.raw(statement));

  it('fails a unit whose transaction SQLite rolled back even though it returned normally, and commits the next ones', async () => {
    const s = await store();
    const { gate, release } = gated();
    // Catches what a disk-full error does to the transaction (done by hand here) and carries on,
    // while two more units queue up behind it.
    const swallower = s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('SWALLOWER'));
      await gate;
      await rawRun(tx, 'ROLLBACK');
    });
    const b = s.transaction(async (tx) => tx.insert(s.tables.products).values(row('B')));
    const c = s.transaction(async (tx) => tx.insert(s.tables.products).values(row('C')));
    release();
    const [w, rb, rc] = await Promise.allSettled([swallower, b, c]);
    expect(w).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/rolled back by SQLite/) } });
    // What each promise says is what the store holds.
    expect([rb.status, rc.status]).toEqual(['fulfilled', 'fulfilled']);
    const rows = await s.db.select({ sku: s.tables.products.sku }).from(s.tables.products).orderBy(s.tables.products.sku);
    expect(rows).toEqual([{ sku: 'B' }, { sku: 'C' }]);
    await s.close();
  });

  it('settles every unit of a group whose ROLLBACK fails too (an iterator left open on the writer)', async () => {
    // The committer alone on a bare connection: the store closes a unit's cursors as it ends (the
    // test after this one), so only a cursor it never saw can keep a ROLLBACK from running.
    const dir = mkdtempSync(join(tmpdir(), 'sqlite-store-'));
    dirs.push(dir);
    const writer = new Database(join(dir, 'bare.sqlite'));
    writer.exec('CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT NOT NULL)');
    const committer = new GroupCommitter(writer, { maxMs: 600_000 });
    const insert = writer.prepare('INSERT INTO products (sku, name) VALUES (?, ?)');
    let left: IterableIterator<unknown> | undefined;
    const a = committer.run(async () => insert.run('A', 'A'));
    const b = committer.run(async () => {
      insert.run('B', 'B');
      // A read left running on the writer: better-sqlite3 refuses RELEASE, COMMIT and ROLLBACK.
      left = writer.prepare('SELECT sku FROM products').iterate();
      left.next();
    });
    // Before, group() threw out of its catch: neither unit ever settled.
    const outcomes = await Promise.allSettled([a, b]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason.message)).toMatch(/ROLLBACK failed too/);
    // Once the read is finished, the next group ends the transaction left open and serves units again.
    left!.return!();
    expect(writer.inTransaction).toBe(true);
    await committer.run(async () => insert.run('C', 'C'));
    expect(writer.prepare('SELECT sku FROM products').all()).toEqual([{ sku: 'C' }]);
    await committer.idle();
    writer.close();
  });

  it('closes the cursors a unit left open on the writer as it ends, so the units of its group commit', async () => {
    const s = await store();
    const writer = writerOf(s);
    let left: IterableIterator<unknown> | undefined;
    const a = s.transaction((tx) => tx.insert(s.tables.products).values(row('A')));
    const b = s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('B'));
      left = writer.prepare('SELECT sku FROM products').iterate();
      left.next();
    });
    // Before, the cursor kept its RELEASE and the group's COMMIT from running: both units failed.
    await Promise.all([a, b]);
    expect(left!.next()).toEqual({ done: true, value: undefined });
    expect(await skus(s)).toEqual(['A', 'B']);
    await s.close();
  });

  it('takes a transaction-control statement with a comment before it for what it is', async () => {
    const s = await store();
    // Outside a unit: SQLite calls it read-only, and it was let through as a read.
    expect(() => writerOf(s).prepare('/* c */ BEGIN').run()).toThrow(OutsideUnitOfWork);
    expect(writerOf(s).inTransaction).toBe(false);
    // Inside one: a COMMIT with a comment before it ends the unit's transaction, and the unit's
    // writes after it are refused rather than autocommitted.
    let caught: unknown;
    const unit = s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('BEFORE'));
      await rawRun(tx, '-- done early\n/* really */ COMMIT');
      await tx.insert(s.tables.products).values(row('AFTER')).catch((err: unknown) => (caught = err));
    });
    await expect(unit).rejects.toBeInstanceOf(TransactionLost);
    expect(caught).toBeInstanceOf(TransactionLost);
    expect(await skus(s)).not.toContain('AFTER');
    // A long run of whitespace before a statement is read past once (a pattern tried first
    // backtracked over it: seconds at thirty characters, doubling with each one more).
    await s.transaction((tx) => rawRun(tx, `${' '.repeat(200)}\n\t INSERT INTO products (sku, name) VALUES ('SPACED', 'x')`));
    expect(await skus(s)).toContain('SPACED');
    await s.close();
  });

  it('refuses the writes of a unit after a step of its cursor ended the transaction', async () => {
    const s = await store();
    const w = writerOf(s);
    w.exec("CREATE TABLE audit (n INTEGER); CREATE TRIGGER audit_stop AFTER INSERT ON audit WHEN new.n = 2 BEGIN SELECT RAISE(ROLLBACK, 'stopped'); END;");
    let caught: unknown;
    const unit = s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('BEFORE'));
      // The failure comes from the cursor's second step, not from the call that opened it.
      const steps = w.prepare('INSERT INTO audit (n) VALUES (1), (2) RETURNING n').iterate();
      try {
        for (const _ of steps) void _;
      } catch {
        // caught, as a unit might, and it goes on
      }
      await tx.insert(s.tables.products).values(row('AFTER')).catch((err: unknown) => (caught = err));
    });
    await expect(unit).rejects.toBeInstanceOf(TransactionLost);
    expect(caught).toBeInstanceOf(TransactionLost);
    expect(await skus(s)).toEqual([]);
    await s.close();
  });

  it('refuses a unit of work once it is closing, with StoreClosed rather than the closed connection', async () => {
    const s = await store();
    await s.transaction((tx) => tx.insert(s.tables.products).values(row('A')));
    await s.close();
    await expect(s.transaction((tx) => tx.insert(s.tables.products).values(row('B')))).rejects.toBeInstanceOf(StoreClosed);
  });

  it('refuses group commit limits that would let a group take no unit', () => {
    const db = new Database(':memory:');
    try {
      expect(() => new GroupCommitter(db, { maxUnits: 0 })).toThrow(RangeError);
      expect(() => new GroupCommitter(db, { maxMs: 0 })).toThrow(RangeError);
      expect(() => new GroupCommitter(db, { unitTimeoutMs: 0 })).toThrow(RangeError);
      expect(() => new GroupCommitter(db, { maxUnits: 1, maxMs: 1 })).not.toThrow();
    } finally {
      db.close();
    }
  });

  it('settles every unit and keeps working when a transaction-control statement fails', async () => {
    const s = await store();
    const { gate, release } = gated();
    const first = s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('FIRST'));
      await gate;
    });
    // Releases its own savepoint, so rolling back to it fails: the whole group must give up cleanly.
    const saboteur = s.transaction(async (tx) => {
      await rawRun(tx, 'RELEASE uow');
      throw new Error('sabotage');
    });
    release();
    const results = await Promise.allSettled([first, saboteur]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await s.transaction(async (tx) => tx.insert(s.tables.products).values(row('AFTER')));
    const rows = await s.db.select({ sku: s.tables.products.sku }).from(s.tables.products);
    expect(rows).toEqual([{ sku: 'AFTER' }]);
    await s.close();
  });

  const skus = async (s: Awaited<ReturnType<typeof store>>) =>
    (await s.db.select({ sku: s.tables.products.sku }).from(s.tables.products).orderBy(s.tables.products.sku)).map((r) => r.sku);

  it('refuses a statement from work a unit left running, inside the next unit or with none open', async () => {
    const s = await store();
    // A branch of a Promise.all that another branch's failure abandoned, still holding `tx`.
    const strays = [gated(), gated()];
    const left: Promise<unknown>[] = [];
    const failing = s.transaction(async (tx) => {
      for (const [i, stray] of strays.entries()) left.push(stray.gate.then(() => tx.insert(s.tables.products).values(row(`STRAY${i}`))));
      await Promise.all([...left, Promise.reject(new Error('branch failed'))]);
    });
    await expect(failing).rejects.toThrow('branch failed');
    // Before, it wrote into whichever unit was running then…
    const running = gated();
    const held = gated();
    const next = s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('NEXT'));
      running.release();
      await held.gate;
    });
    await running.gate;
    strays[0]!.release();
    await expect(left[0]).rejects.toBeInstanceOf(OutsideUnitOfWork);
    held.release();
    await next;
    // …or, with none running, autocommitted.
    strays[1]!.release();
    await expect(left[1]).rejects.toBeInstanceOf(OutsideUnitOfWork);
    expect(await skus(s)).toEqual(['NEXT']);
    await s.close();
  });

  it('refuses the writes of a unit that goes on after SQLite rolled back its whole transaction', async () => {
    const s = await store();
    let caught: unknown;
    const unit = s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('BEFORE'));
      // What an I/O or disk-full error does to the transaction, done by hand; the unit catches the
      // next statement's error and returns. Before, that statement was autocommitted.
      await rawRun(tx, 'ROLLBACK');
      await tx.insert(s.tables.products).values(row('AFTER')).catch((err: unknown) => (caught = err));
    });
    await expect(unit).rejects.toBeInstanceOf(TransactionLost);
    expect(caught).toBeInstanceOf(TransactionLost);
    expect(await skus(s)).toEqual([]);
    await s.close();
  });

  it('fails a unit that awaits a unit of its own group at its time limit, and commits the other', async () => {
    const s = await store({ groupCommit: { maxMs: 600_000, unitTimeoutMs: 200 } });
    // Both start in one turn, so they share a group: `a` settles only once `b`'s group commits.
    const a = s.transaction((tx) => tx.insert(s.tables.products).values(row('A')));
    const b = s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('B'));
      await a;
    });
    await expect(b).rejects.toBeInstanceOf(UnitTimedOut);
    await a;
    expect(await skus(s)).toEqual(['A']);
    await s.close();
  });

  it('fails a unit that never settles at its time limit; the units behind it and close() go on', async () => {
    const s = await store({ groupCommit: { maxMs: 600_000, unitTimeoutMs: 200 } });
    const stuck = s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('STUCK'));
      await new Promise(() => undefined);
    });
    const after = s.transaction((tx) => tx.insert(s.tables.products).values(row('AFTER')));
    await expect(stuck).rejects.toBeInstanceOf(UnitTimedOut);
    await after;
    expect(await skus(s)).toEqual(['AFTER']);
    await s.close();
  });

  it('lets work a unit started and that outlives it open units of its own, and still refuses nesting', async () => {
    const s = await store();
    let later!: Promise<unknown>;
    await s.transaction(async () => {
      // A timer or a poller started inside a unit carries its async context; before, every unit it
      // opened afterwards was refused as nested.
      later = new Promise((r) => setTimeout(r, 1)).then(() => s.transaction((tx) => tx.insert(s.tables.products).values(row('LATER'))));
    });
    await later;
    expect(await skus(s)).toEqual(['LATER']);
    await expect(s.transaction(() => s.transaction(async () => undefined))).rejects.toBeInstanceOf(NestedTransactionError);
    await s.close();
  });

  it('refuses a write on the writer outside any unit of work', async () => {
    const s = await store();
    const writer = (s.engine as unknown as { writer: Db }).writer;
    await expect(writer.insert(s.tables.products).values(row('OUTSIDE'))).rejects.toBeInstanceOf(OutsideUnitOfWork);
    // A read outside any unit may use the writer (preparedRead does) while no transaction is open on it.
    expect(await writer.select({ sku: s.tables.products.sku }).from(s.tables.products)).toEqual([]);
    expect(await skus(s)).toEqual([]);
    await s.close();
  });

  it('closes the cursors a unit that timed out left open on the writer, so its rollback and the units after it run', async () => {
    const s = await store({ groupCommit: { maxMs: 600_000, unitTimeoutMs: 200 } });
    await s.transaction((tx) => tx.insert(s.tables.products).values([row('A'), row('B')]));
    const writer = writerOf(s);
    const stuck = s.transaction(async (tx) => {
      await tx.insert(s.tables.products).values(row('STUCK'));
      // A read left running on the writer: better-sqlite3 refuses every other statement on it.
      writer.prepare('SELECT sku FROM products').iterate().next();
      await new Promise(() => undefined);
    });
    const after = s.transaction((tx) => tx.insert(s.tables.products).values(row('C')));
    await expect(stuck).rejects.toBeInstanceOf(UnitTimedOut);
    await after;
    expect(writer.inTransaction).toBe(false);
    expect(await skus(s)).toEqual(['A', 'B', 'C']);
    await s.close();
  });

  it('takes a unit time limit of Infinity as none, without a timer that fires every millisecond', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const s = await store({ groupCommit: { maxMs: 600_000, unitTimeoutMs: Infinity } });
      await s.transaction((tx) => tx.insert(s.tables.products).values(row('A')));
      await new Promise((r) => setImmediate(r));
      expect(await skus(s)).toEqual(['A']);
      await s.close();
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });

  it('refuses a write from a listener a unit registered on an emitter made outside it, unless the listener is bound to the unit', async () => {
    const s = await store();
    const emitter = new EventEmitter();
    const outcome: string[] = [];
    const writes: Promise<unknown>[] = [];
    const registered = gated();
    const emitted = gated();
    const unit = s.transaction(async (tx) => {
      const write = (sku: string) => () =>
        writes.push(
          tx.insert(s.tables.products).values(row(sku)).then(
            () => outcome.push(`${sku} written`),
            (err: Error) => outcome.push(`${sku} ${err.name}`),
          ),
        );
      emitter.once('unbound', write('UNBOUND'));
      emitter.once('bound', AsyncResource.bind(write('BOUND')));
      registered.release();
      await emitted.gate;
      await Promise.all(writes);
    });
    await registered.gate;
    // The emitter runs its listeners in the context of whoever emits: here, the test's.
    emitter.emit('unbound');
    emitter.emit('bound');
    emitted.release();
    await unit;
    expect(outcome.sort()).toEqual(['BOUND written', 'UNBOUND OutsideUnitOfWork']);
    expect(await skus(s)).toEqual(['BOUND']);
    await s.close();
  });
});
