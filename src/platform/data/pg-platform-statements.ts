// Postgres: the platform's per-event statements (platform-statements.ts), each built once as a
// named statement and run on the connection of the unit of work it is given (prepared-write.ts's
// pgStatement), where drizzle built and rendered each one anew per call. The inbox claim and the
// relay's mark take their batch as array parameters, so one statement serves every batch size.
import { asc, isNull, sql } from 'drizzle-orm';
import type { Db } from './db-handle.ts';
import type { PlatformTables } from './schema-kit.ts';
import type { InboxClaim, PendingOutboxRow, PlatformStatements } from './platform-statements.ts';
import { bound, pgStatement, writeLater } from './prepared-write.ts';

export function pgPlatformStatements(module: string, t: PlatformTables, pool: Db): PlatformStatements {
  const { outbox, inbox } = t;
  const name = (what: string) => `${module}_platform_${what}`;
  const append = pgStatement(pool, name('append_outbox'), (db) =>
    db.insert(outbox).values({ id: bound(outbox.id, 'id'), type: bound(outbox.type, 'type'), envelope: bound(outbox.envelope, 'envelope'), createdAt: bound(outbox.createdAt, 'createdAt') } as never),
  );
  const claim = pgStatement(pool, name('claim_inbox'), (db) =>
    db
      .insert(inbox)
      .select(sql`select c.event_id, c.handler, ${bound(inbox.handledAt, 'handledAt')}::timestamptz from unnest(${sql.placeholder('eventIds')}::text[], ${sql.placeholder('handlers')}::text[]) as c(event_id, handler)`)
      .onConflictDoNothing()
      .returning({ eventId: inbox.eventId, handler: inbox.handler }),
  );
  const pending = pgStatement(pool, name('pending_outbox'), (db) =>
    db
      .select({ seq: outbox.seq, type: outbox.type, envelope: outbox.envelope })
      .from(outbox)
      .where(isNull(outbox.dispatchedAt))
      .orderBy(asc(outbox.seq))
      .limit(sql.placeholder('limit')),
  );
  const mark = pgStatement(pool, name('mark_dispatched'), (db) =>
    db
      .update(outbox)
      .set({ dispatchedAt: bound(outbox.dispatchedAt, 'at') as never })
      .where(sql`${outbox.seq} = any(${sql.placeholder('seqs')}::bigint[])`),
  );
  return {
    async appendOutbox(tx, row) {
      // Nothing reads the row back in the unit: it goes with the unit's next statement or COMMIT.
      await writeLater(tx, () => append(tx, row as unknown as Record<string, unknown>));
    },
    async claimInbox(tx, claims, handledAt) {
      // Each pair is sent once (a pair twice in one INSERT would be claimed by its first row anyway).
      const keyOf = (c: InboxClaim) => JSON.stringify([c.eventId, c.handler]);
      const unique = new Map(claims.map((c) => [keyOf(c), c]));
      const values = [...unique.values()];
      const rows = (await claim(tx, { eventIds: values.map((c) => c.eventId), handlers: values.map((c) => c.handler), handledAt })) as InboxClaim[];
      const fresh = new Set(rows.map(keyOf));
      // A fresh pair is new for its first entry only.
      return claims.map((c) => fresh.delete(keyOf(c)));
    },
    async pendingOutbox(limit) {
      return (await pending(pool, { limit })) as PendingOutboxRow[];
    },
    async markDispatched(tx, seqs, at) {
      // Held for the COMMIT: the relay's unit of this one write commits with whatever else of the
      // store ends in the same turn (a commit group, decision 29), or alone in one round trip.
      await writeLater(tx, () => mark(tx, { seqs: [...seqs], at }));
    },
  };
}
