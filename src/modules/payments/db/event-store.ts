// The account event store: load = latest usable summary snapshot + the events after it (and, for
// a charge or refund, the earlier events of its order); append = optimistic concurrency on
// (account, version), with a snapshot every N events so replay stays short.
import { and, asc, desc, eq, gt, lte, sql } from 'drizzle-orm';
import type { Db, ModuleStore } from '../../../platform/data/module-store.ts';
import { bound, preparedWrite } from '../../../platform/data/prepared-write.ts';
import { preparedRead } from '../../../platform/data/prepared-read.ts';
import { jsonText } from '../../../platform/data/json-text.ts';
import { apply, applyToPayment, emptyAccount, type AccountEvent, type AccountState, type OrderPayment } from '../domain/account.ts';
import type { PaymentsTables } from './schema.ts';
import { fixedLimit, textEquals } from '../../../platform/data/planned-once.ts';
import { causeChain } from '../../../platform/errors/causes.ts';
import { STREAM_INDEX } from './schema.ts';

/** An account that kept changing under every attempt to append to it. */
export class StreamConflict extends Error {
  constructor(accountId: string, options?: ErrorOptions) {
    super(`account ${accountId} changed meanwhile`, options);
  }
}

/**
 * Someone else appended the version this unit of work appended (the stream's unique index refused
 * it), on either engine. On Postgres the append is held for the unit's COMMIT (`later`), so the
 * refusal comes out of the unit, not out of `append`.
 */
export function isStreamConflict(err: unknown): boolean {
  for (const e of causeChain(err)) {
    const { code, constraint, message } = e as { code?: string; constraint?: string; message?: string };
    if (code === '23505' && constraint === STREAM_INDEX) return true;
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' && message?.includes('account_events.account_id, account_events.version')) return true;
  }
  return false;
}

export interface LoadedAccount {
  state: AccountState;
  version: number;
  lastEventAt?: Date;
  replayed: number;
  /** The order the load was for, and its payment so far (undefined: none yet). */
  orderId?: string;
  payment?: OrderPayment;
}

/** The account now, with one order's payment if `orderId` is given; or as it stood at `at`. */
export type LoadOptions = { orderId?: string; at?: undefined } | { at: Date; orderId?: undefined };

type Snapshot = PaymentsTables['snapshots']['$inferSelect'];
type StoredEvent = PaymentsTables['accountEvents']['$inferSelect'];
type Read<Row> = (values: Record<string, unknown>) => Promise<Row[]>;
/** A row of a charge's or refund's load: the summary ('s', its state as body) or an event ('e'). */
type LoadRow = { kind: 's' | 'e'; version: number; body: AccountEvent; at: Date };

export function eventStore(store: ModuleStore<PaymentsTables>, snapshotEvery: number) {
  const { accountEvents: ev, snapshots: sn } = store.tables;
  const any = store as unknown as ModuleStore;
  // Loading the account now and appending to it happen for every charge: built once
  // (prepared-write.ts), on the writer for a unit of work's reads and writes, on the reader
  // (prepared-read.ts, on first use: the store opens before its migrations run) otherwise.
  // The two reads ordered by version name the account with textEquals (planned-once.ts).
  const accountIs = (column: typeof sn.accountId | typeof ev.accountId) => textEquals(column, bound(column, 'accountId'));
  const latestSnapshot = (db: Db) => db.select().from(sn).where(accountIs(sn.accountId)).orderBy(desc(sn.version)).limit(fixedLimit(1));
  const eventsAfter = (db: Db) => db.select().from(ev).where(and(accountIs(ev.accountId), gt(ev.version, bound(ev.version, 'version')))).orderBy(asc(ev.version));
  // A charge's or refund's load, in one statement (one round trip, one view of the data): the
  // latest summary (kind 's'), the events after it and the order's events (kind 'e', each part on
  // an index of its own). The order's part names no version: with one, SQLite (no statistics)
  // walked the account's stream index instead, every event the account ever had; an order's
  // events after the summary come twice, and the load takes each version once.
  const summaryVersion = sql`(select max(${sn.version}) from ${sn} where ${accountIs(sn.accountId)})`;
  const forOrder = (db: Db) =>
    db
      .select({ kind: sql<'s' | 'e'>`'s'`, version: sn.version, body: sn.state as unknown as typeof ev.data, at: sn.lastEventAt })
      .from(sn)
      .where(and(accountIs(sn.accountId), eq(sn.version, summaryVersion)))
      .unionAll(
        db
          .select({ kind: sql<'s' | 'e'>`'e'`, version: ev.version, body: ev.data, at: ev.occurredAt })
          .from(ev)
          .where(and(accountIs(ev.accountId), gt(ev.version, sql`coalesce(${summaryVersion}, 0)`))),
      )
      .unionAll(
        db
          .select({ kind: sql<'s' | 'e'>`'e'`, version: ev.version, body: ev.data, at: ev.occurredAt })
          .from(ev)
          .where(and(eq(ev.accountId, bound(ev.accountId, 'accountId')), sql`${jsonText(ev.data, 'orderId')} = ${sql.placeholder('orderId')}`)),
      );
  const inUnit = {
    snapshot: preparedWrite<Snapshot>(any, 'latest_summary', latestSnapshot),
    events: preparedWrite<StoredEvent>(any, 'events_after', eventsAfter),
    forOrder: preparedWrite<LoadRow>(any, 'load_for_order', forOrder),
  };
  let read: { snapshot: Read<Snapshot>; events: Read<StoredEvent>; forOrder: Read<LoadRow> } | undefined;
  const readNow = () =>
    (read ??= {
      snapshot: preparedRead<Snapshot>(any, 'payments_read_latest_summary', latestSnapshot),
      events: preparedRead<StoredEvent>(any, 'payments_read_events_after', eventsAfter),
      forOrder: preparedRead<LoadRow>(any, 'payments_read_load_for_order', forOrder),
    });
  // No ON CONFLICT: a version someone else appended first is refused by the stream's unique
  // index, which fails the unit (isStreamConflict), so the append needs no answer and goes with
  // the unit's COMMIT on Postgres.
  const insertEvent = preparedWrite(any, 'append_event', (db) =>
    db
      .insert(ev)
      .values({ accountId: bound(ev.accountId, 'accountId'), version: bound(ev.version, 'version'), type: bound(ev.type, 'type'), data: bound(ev.data, 'data'), occurredAt: bound(ev.occurredAt, 'occurredAt') } as never),
  );
  const insertSnapshot = preparedWrite(any, 'insert_summary', (db) =>
    db
      .insert(sn)
      .values({ accountId: bound(sn.accountId, 'accountId'), version: bound(sn.version, 'version'), state: bound(sn.state, 'state'), lastEventAt: bound(sn.lastEventAt, 'lastEventAt') } as never)
      .onConflictDoNothing(),
  );

  /** The latest snapshot and the events to fold: prepared for the account now, built for a past moment. */
  async function latest(db: Db, accountId: string, { at, orderId }: LoadOptions) {
    if (at) {
      const [snap] = await db.select().from(sn).where(and(eq(sn.accountId, accountId), lte(sn.lastEventAt, at))).orderBy(desc(sn.version)).limit(fixedLimit(1));
      const rows = await db.select().from(ev).where(and(eq(ev.accountId, accountId), gt(ev.version, snap?.version ?? 0), lte(ev.occurredAt, at))).orderBy(asc(ev.version));
      return { snap, rows };
    }
    const reads = db === store.db ? readNow() : undefined;
    if (orderId !== undefined) {
      const values = { accountId, orderId };
      const all = reads ? await reads.forOrder(values) : await inUnit.forOrder.all(db, values);
      const s = all.find((r) => r.kind === 's');
      const snap = s && { version: s.version, state: s.body as unknown as AccountState, lastEventAt: s.at };
      const rows = all.filter((r) => r.kind === 'e').map((r) => ({ version: r.version, data: r.body, occurredAt: r.at }));
      return { snap, rows: rows.sort((a, b) => a.version - b.version) };
    }
    const [snap] = reads ? await reads.snapshot({ accountId }) : await inUnit.snapshot.all(db, { accountId });
    const values = { accountId, version: snap?.version ?? 0 };
    return { snap, rows: reads ? await reads.events(values) : await inUnit.events.all(db, values) };
  }

  return {
    /** The account now (with one order's payment), or as it stood at `at`. */
    async load(db: Db, accountId: string, options: LoadOptions = {}): Promise<LoadedAccount> {
      const { snap, rows } = await latest(db, accountId, options);
      let state = snap?.state ?? emptyAccount(accountId);
      let version = snap?.version ?? 0;
      let lastEventAt = snap?.lastEventAt;
      let payment: OrderPayment | undefined;
      let replayed = 0;
      let previous = 0;
      for (const r of rows) {
        if (r.version === previous) continue; // an order's event after the snapshot, read by both parts
        previous = r.version;
        if (options.orderId !== undefined && 'orderId' in r.data && r.data.orderId === options.orderId) payment = applyToPayment(payment, r.data);
        if (r.version <= version) continue; // the order's events the snapshot already holds
        state = apply(state, r.data);
        version = r.version;
        lastEventAt = r.occurredAt;
        replayed++;
      }
      return { state, version, lastEventAt, replayed, orderId: options.orderId, payment };
    },

    /**
     * Appends after `loaded`'s version; if someone else appended first, the unit of work fails
     * (isStreamConflict: here on SQLite, at its COMMIT on Postgres). A
     * summary is written every `snapshotEvery` versions, and also after a load that replayed at
     * least that many events (an account whose last summary is far behind, such as one written
     * before summaries existed), so its next load is short again.
     */
    async append(db: Db, accountId: string, loaded: LoadedAccount, events: AccountEvent[], now: Date): Promise<AccountState> {
      let state = loaded.state;
      let version = loaded.version;
      let summarised = false;
      for (const e of events) {
        version++;
        await insertEvent.later(db, { accountId, version, type: e.type, data: e, occurredAt: now });
        state = apply(state, e);
        if (version % snapshotEvery === 0) {
          await insertSnapshot.later(db, { accountId, version, state, lastEventAt: now });
          summarised = true;
        }
      }
      if (!summarised && events.length && loaded.replayed + events.length >= snapshotEvery) {
        await insertSnapshot.later(db, { accountId, version, state, lastEventAt: now });
      }
      return state;
    },
  };
}

export type EventStore = ReturnType<typeof eventStore>;
