// A Postgres store's prepared reads asked for in the same turn go in one round trip
// (pg-read-group.ts): each still answers its own values, one that fails fails alone, and a
// connection lost under a batch fails the read it was running, not being handed out again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import pg from 'pg';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { defineSchema } from '../../src/platform/data/schema-kit.ts';
import { preparedRead } from '../../src/platform/data/prepared-read.ts';
import { ReadGroup } from '../../src/platform/data/pg-read-group.ts';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import { holdConnection, pgStoreWith } from '../support/databases.ts';

const schema = defineSchema('reads', (k) => ({ things: k.table('things', { id: k.text('id').primaryKey(), n: k.int('n').notNull() }) }));

/** What a read of this test answers: its row, and which backend ran it in which transaction. */
type Seen = { id: string; n: number; pid: number; tx: string };

describe('prepared reads of a Postgres store asked for in the same turn', () => {
  let pgStore: Awaited<ReturnType<typeof pgStoreWith<ReturnType<typeof schema.tables>>>>;
  let store: ModuleStore;
  let admin: pg.Client;
  let byId: (values: Record<string, unknown>) => Promise<Seen[]>;
  let byN: (values: Record<string, unknown>) => Promise<Seen[]>;
  let slow: (values: Record<string, unknown>) => Promise<Seen[]>;

  beforeAll(async () => {
    pgStore = await pgStoreWith(schema, "CREATE SCHEMA reads; CREATE TABLE reads.things (id text PRIMARY KEY, n int NOT NULL); INSERT INTO reads.things VALUES ('a', 1), ('b', 2), ('c', 3)", 4);
    store = pgStore.store as unknown as ModuleStore;
    const t = pgStore.store.tables.things;
    // now() is the start of the transaction: statements that share it ran in one implicit
    // transaction, which is what one round trip (one Sync) gives them.
    const seen = { id: t.id, n: t.n, pid: sql<number>`pg_backend_pid()`, tx: sql<string>`now()::text` };
    byId = preparedRead<Seen>(store, 'reads_by_id', (db) => db.select(seen).from(t).where(eq(t.id, sql.placeholder('id'))));
    byN = preparedRead<Seen>(store, 'reads_by_n', (db) => db.select(seen).from(t).where(sql`${t.n} = ${sql.placeholder('n')}::int`));
    slow = preparedRead<Seen>(store, 'reads_slow', (db) => db.select(seen).from(t).where(sql`${t.id} = ${sql.placeholder('id')} and pg_sleep(30) is not null`));
    admin = new pg.Client({ connectionString: pgStore.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await pgStore?.close();
  });

  it('go in one round trip, each answered with its own rows', async () => {
    const answers = await Promise.all(['a', 'b', 'c', 'missing'].map((id) => byId({ id })));
    expect(answers.map((rows) => rows.map((r) => [r.id, r.n]))).toEqual([[['a', 1]], [['b', 2]], [['c', 3]], []]);
    const [a, b, c] = answers.map((rows) => rows[0]!);
    expect(new Set([a!.pid, b!.pid, c!.pid]).size).toBe(1);
    expect(new Set([a!.tx, b!.tx, c!.tx]).size).toBe(1);
  });

  it('are traced where they were asked for: the first read’s trace has the round trip, each other read a span of its own', async () => {
    const spans = new InMemorySpanExporter();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const processor = new SimpleSpanProcessor({ exporter: spans });
    trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [processor] }));
    try {
      const caller = trace.getTracer('test');
      const ids = ['a', 'b', 'c'];
      const callers = ids.map((id) => caller.startSpan(`caller ${id}`));
      await Promise.all(callers.map((span, i) => context.with(trace.setSpan(context.active(), span), () => byId({ id: ids[i] }))));
      for (const span of callers) span.end();
      // The processor exports as each span ends, but not within the same tick.
      await processor.forceFlush();
      const batched = spans.getFinishedSpans().filter((s) => s.name === 'pg read in a batch');
      expect(batched.map((s) => s.parentSpanContext?.spanId).sort()).toEqual([callers[1]!, callers[2]!].map((s) => s.spanContext().spanId).sort());
      expect(batched.map((s) => s.attributes['db.operation.batch.size'])).toEqual([3, 3]);
    } finally {
      trace.disable();
      context.disable();
    }
  });

  it('asked for in different turns, go in round trips of their own', async () => {
    const [first] = await byId({ id: 'a' });
    const [second] = await byId({ id: 'a' });
    expect(second!.tx).not.toBe(first!.tx);
  });

  it('see what a unit of work committed before they were asked for', async () => {
    await pgStore.store.transaction((tx) => tx.insert(pgStore.store.tables.things).values({ id: 'd', n: 4 }));
    expect((await byId({ id: 'd' })).map((r) => r.n)).toEqual([4]);
  });

  it('fail alone: a read the server refuses fails with its error, and the reads sent after it are answered', async () => {
    const outcomes = await Promise.allSettled([byN({ n: 1 }), byN({ n: 'not a number' }), byN({ n: 2 }), byId({ id: 'c' })]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason.cause ?? (outcomes[1] as PromiseRejectedResult).reason)).toMatch(/invalid input syntax/);
    const rows = outcomes.filter((o) => o.status === 'fulfilled').map((o) => (o as PromiseFulfilledResult<Seen[]>).value[0]!);
    expect(rows.map((r) => r.id)).toEqual(['a', 'b', 'c']);
  });

  it('fail alone when pg cannot send one: a value it cannot convert fails that read, and the others are answered', async () => {
    // JSON.stringify refuses a BigInt: pg fails the value before anything of the batch is written.
    const outcomes = await Promise.allSettled([byN({ n: 1 }), byN({ n: { big: 1n } }), byId({ id: 'c' })]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason.cause ?? (outcomes[1] as PromiseRejectedResult).reason)).toMatch(/BigInt/);
    expect(outcomes.filter((o) => o.status === 'fulfilled').map((o) => (o as PromiseFulfilledResult<Seen[]>).value[0]!.id)).toEqual(['a', 'c']);
  });

  it('refuse a name given to another statement in the same batch, rather than run the first statement for both', async () => {
    const t = pgStore.store.tables.things;
    const first = preparedRead<{ id: string }>(store, 'reads_one_name', (db) => db.select({ id: t.id }).from(t).where(eq(t.id, sql.placeholder('id'))));
    const second = preparedRead<{ n: number }>(store, 'reads_one_name', (db) => db.select({ n: t.n }).from(t).where(eq(t.id, sql.placeholder('id'))));
    const [one, other] = await Promise.allSettled([first({ id: 'a' }), second({ id: 'b' })]);
    expect(one).toEqual({ status: 'fulfilled', value: [{ id: 'a' }] });
    expect(other!.status).toBe('rejected');
    expect(String((other as PromiseRejectedResult).reason.cause ?? (other as PromiseRejectedResult).reason)).toMatch(/Prepared statements must be unique/);
  });

  it('go again on another connection when theirs could not send at all', async () => {
    // The first connection handed out is one that was closed: pg fails whatever is queued on it
    // without writing anything. The next are the pool's own.
    const pool = new pg.Pool({ connectionString: pgStore.url, max: 2 });
    const closed = new pg.Client({ connectionString: pgStore.url });
    await closed.connect();
    await closed.end();
    let handed = 0;
    const group = new ReadGroup({
      connect: async () => (handed++ === 0 ? (Object.assign(closed, { release: () => {} }) as unknown as pg.PoolClient) : pool.connect()),
    });
    try {
      const answers = await Promise.all([group.query({ text: 'select 1 as one' }), group.query({ text: 'select 2 as two' })]);
      expect(answers.map((r) => r.rows)).toEqual([[{ one: 1 }], [{ two: 2 }]]);
      expect(handed).toBe(2);
    } finally {
      await pool.end();
    }
  });

  it('fail with the connection when it is lost under them, and the store reads on without it', async () => {
    const batch = Promise.allSettled([byId({ id: 'a' }), slow({ id: 'b' }), byId({ id: 'c' })]);
    const deadline = Date.now() + 60_000;
    let ended: number | undefined;
    while (ended === undefined) {
      const { rows } = await admin.query<{ pid: number }>("select pid from pg_stat_activity where query like '%pg_sleep(30)%' and pid <> pg_backend_pid() and datname = current_database()");
      if (rows[0]) {
        ended = rows[0].pid;
        await admin.query('select pg_terminate_backend($1)', [ended]);
      } else if (Date.now() > deadline) throw new Error('the slow read never reached the server');
      else await new Promise((r) => setTimeout(r, 20));
    }
    const outcomes = await batch;
    // The read the backend was running when it ended fails; the one ahead of it was answered, and
    // the one behind it, which never ran and changed nothing, went again on another connection.
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseFulfilledResult<Seen[]>).value[0]!.pid).not.toBe(ended);
    // Every later read runs on a live backend: the dead one was not handed out again.
    const after = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? byId({ id: 'a' }) : new Promise<Seen[]>((r) => setImmediate(() => r(byId({ id: 'b' })))))));
    expect(after.every((rows) => rows.length === 1 && rows[0]!.pid !== ended)).toBe(true);
  });

  it('fail, rather than wait, once the store is closed', async () => {
    const other = await pgStoreWith(schema, 'CREATE SCHEMA reads; CREATE TABLE reads.things (id text PRIMARY KEY, n int NOT NULL)', 2);
    const read = preparedRead<Seen>(other.store as unknown as ModuleStore, 'reads_closed', (db) => db.select().from(other.store.tables.things));
    expect(await read({})).toEqual([]);
    await other.close();
    await expect(read({})).rejects.toThrow();
  });

  it('fail at once when the store closes while they wait for a connection', async () => {
    // One connection, held by a unit of work until the gate opens: the read waits for it.
    const other = await pgStoreWith(schema, 'CREATE SCHEMA reads; CREATE TABLE reads.things (id text PRIMARY KEY, n int NOT NULL)', 1);
    const read = preparedRead<Seen>(other.store as unknown as ModuleStore, 'reads_closing', (db) => db.select().from(other.store.tables.things));
    const held = await holdConnection(other.store as unknown as ModuleStore);
    const waiting = read({}).then(
      () => 'answered',
      (err: Error) => String(err.cause ?? err),
    );
    // Let the read ask the pool for the connection the unit holds.
    await new Promise((r) => setImmediate(r));
    const closing = other.close();
    // Failed by the close itself, while the unit still holds the connection: pg's pool would
    // otherwise keep the read waiting until its connection timeout, closed or not.
    const outcome = await waiting;
    await held.release();
    await closing;
    expect(outcome).toMatch(/the store is closed/);
    await expect(read({})).rejects.toThrow();
  });
});
