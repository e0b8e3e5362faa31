// The account event store: load = latest usable snapshot + the events after it; append =
// optimistic concurrency on (account, version), with a snapshot every N events so replay stays short.
import { and, asc, desc, eq, gt, lte } from 'drizzle-orm';
import type { Db, ModuleStore } from '../../../platform/data/module-store.ts';
import { bound, preparedWrite } from '../../../platform/data/prepared-write.ts';
import { preparedRead } from '../../../platform/data/prepared-read.ts';
import { apply, emptyAccount, type AccountEvent, type AccountState } from '../domain/account.ts';
import type { PaymentsTables } from './schema.ts';

export class StreamConflict extends Error {
  constructor(accountId: string) {
    super(`account ${accountId} changed meanwhile`);
  }
}

export interface LoadedAccount {
  state: AccountState;
  version: number;
  lastEventAt?: Date;
  replayed: number;
}

type Snapshot = PaymentsTables['snapshots']['$inferSelect'];
type StoredEvent = PaymentsTables['accountEvents']['$inferSelect'];

export function eventStore(store: ModuleStore<PaymentsTables>, snapshotEvery: number) {
  const { accountEvents: ev, snapshots: sn } = store.tables;
  const any = store as unknown as ModuleStore;
  // Loading the account now and appending to it happen for every charge: built once
  // (prepared-write.ts), on the writer for a unit of work's reads and writes, on the reader
  // (prepared-read.ts, on first use: the store opens before its migrations run) otherwise.
  const latestSnapshot = (db: Db) => db.select().from(sn).where(eq(sn.accountId, bound(sn.accountId, 'accountId'))).orderBy(desc(sn.version)).limit(1);
  const eventsAfter = (db: Db) =>
    db.select().from(ev).where(and(eq(ev.accountId, bound(ev.accountId, 'accountId')), gt(ev.version, bound(ev.version, 'version')))).orderBy(asc(ev.version));
  const inUnit = { snapshot: preparedWrite<Snapshot>(any, 'latest_snapshot', latestSnapshot), events: preparedWrite<StoredEvent>(any, 'events_after', eventsAfter) };
  let read: { snapshot: (v: Record<string, unknown>) => Promise<Snapshot[]>; events: (v: Record<string, unknown>) => Promise<StoredEvent[]> } | undefined;
  const readNow = () => (read ??= { snapshot: preparedRead<Snapshot>(any, 'payments_latest_snapshot', latestSnapshot), events: preparedRead<StoredEvent>(any, 'payments_events_after', eventsAfter) });
  const insertEvent = preparedWrite<{ version: number }>(any, 'append_event', (db) =>
    db
      .insert(ev)
      .values({ accountId: bound(ev.accountId, 'accountId'), version: bound(ev.version, 'version'), type: bound(ev.type, 'type'), data: bound(ev.data, 'data'), occurredAt: bound(ev.occurredAt, 'occurredAt') } as never)
      .onConflictDoNothing()
      .returning({ version: ev.version }),
  );
  const insertSnapshot = preparedWrite(any, 'insert_snapshot', (db) =>
    db
      .insert(sn)
      .values({ accountId: bound(sn.accountId, 'accountId'), version: bound(sn.version, 'version'), state: bound(sn.state, 'state'), lastEventAt: bound(sn.lastEventAt, 'lastEventAt') } as never)
      .onConflictDoNothing(),
  );

  /** The latest snapshot and the events after it: prepared for the account now, built for a past moment. */
  async function latest(db: Db, accountId: string, at?: Date) {
    if (at) {
      const [snap] = await db.select().from(sn).where(and(eq(sn.accountId, accountId), lte(sn.lastEventAt, at))).orderBy(desc(sn.version)).limit(1);
      const rows = await db.select().from(ev).where(and(eq(ev.accountId, accountId), gt(ev.version, snap?.version ?? 0), lte(ev.occurredAt, at))).orderBy(asc(ev.version));
      return { snap, rows };
    }
    if (db === store.db) {
      const [snap] = await readNow().snapshot({ accountId });
      return { snap, rows: await readNow().events({ accountId, version: snap?.version ?? 0 }) };
    }
    const [snap] = await inUnit.snapshot.all(db, { accountId });
    return { snap, rows: await inUnit.events.all(db, { accountId, version: snap?.version ?? 0 }) };
  }

  return {
    /** The account now, or as it stood at `at`. */
    async load(db: Db, accountId: string, at?: Date): Promise<LoadedAccount> {
      const { snap, rows } = await latest(db, accountId, at);
      let state = snap?.state ?? emptyAccount(accountId);
      let version = snap?.version ?? 0;
      let lastEventAt = snap?.lastEventAt;
      for (const r of rows) {
        state = apply(state, r.data);
        version = r.version;
        lastEventAt = r.occurredAt;
      }
      return { state, version, lastEventAt, replayed: rows.length };
    },

    /** Appends after `expectedVersion`; throws StreamConflict if someone else appended first. */
    async append(db: Db, accountId: string, loaded: LoadedAccount, events: AccountEvent[], now: Date): Promise<AccountState> {
      let state = loaded.state;
      let version = loaded.version;
      for (const e of events) {
        version++;
        const inserted = await insertEvent.all(db, { accountId, version, type: e.type, data: e, occurredAt: now });
        if (inserted.length === 0) throw new StreamConflict(accountId);
        state = apply(state, e);
        if (version % snapshotEvery === 0) {
          await insertSnapshot.run(db, { accountId, version, state, lastEventAt: now });
        }
      }
      return state;
    },
  };
}

export type EventStore = ReturnType<typeof eventStore>;
