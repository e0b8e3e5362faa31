// The account event store: load = latest usable snapshot + the events after it; append =
// optimistic concurrency on (account, version), with a snapshot every N events so replay stays short.
import { and, asc, desc, eq, gt, lte } from 'drizzle-orm';
import type { Db } from '../../../platform/data/module-store.ts';
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

export function eventStore(t: PaymentsTables, snapshotEvery: number) {
  const { accountEvents: ev, snapshots: sn } = t;
  return {
    /** The account now, or as it stood at `at`. */
    async load(db: Db, accountId: string, at?: Date): Promise<LoadedAccount> {
      const snapWhere = at ? and(eq(sn.accountId, accountId), lte(sn.lastEventAt, at)) : eq(sn.accountId, accountId);
      const [snap] = await db.select().from(sn).where(snapWhere).orderBy(desc(sn.version)).limit(1);
      let state = snap?.state ?? emptyAccount(accountId);
      let version = snap?.version ?? 0;
      let lastEventAt = snap?.lastEventAt;
      const evWhere = [eq(ev.accountId, accountId), gt(ev.version, version)];
      if (at) evWhere.push(lte(ev.occurredAt, at));
      const rows = await db.select().from(ev).where(and(...evWhere)).orderBy(asc(ev.version));
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
        const inserted = await db
          .insert(ev)
          .values({ accountId, version, type: e.type, data: e, occurredAt: now })
          .onConflictDoNothing()
          .returning({ version: ev.version });
        if (inserted.length === 0) throw new StreamConflict(accountId);
        state = apply(state, e);
        if (version % snapshotEvery === 0) {
          await db.insert(sn).values({ accountId, version, state, lastEventAt: now }).onConflictDoNothing();
        }
      }
      return state;
    },
  };
}

export type EventStore = ReturnType<typeof eventStore>;
