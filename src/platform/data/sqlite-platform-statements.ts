// SQLite: the platform's per-event statements, built and prepared once per store. Every unit of
// work on a SQLite store runs on the store's one writer handle (sqlite-store.ts), so statements
// prepared on that handle run inside whichever unit of work is open: the `tx` they are given is
// that same handle and only says the call belongs to a unit of work.
import { asc, isNull, sql } from 'drizzle-orm';
import type { Db } from './db-handle.ts';
import { fixedLimit } from './planned-once.ts';
import type { PlatformTables } from './schema-kit.ts';
import type { PendingOutboxRow, PlatformStatements } from './platform-statements.ts';

/** What drizzle's better-sqlite3 driver returns from `.prepare()`: synchronous calls. */
interface Prepared<R = unknown> {
  run(values?: Record<string, unknown>): { changes: number };
  all(values?: Record<string, unknown>): R[];
}

// The builders are typed for Postgres (column-kits.ts); at runtime on SQLite their `prepare`
// takes no name and returns the synchronous prepared query above.
function prepared<R = unknown>(query: unknown): Prepared<R> {
  return (query as { prepare(): Prepared<R> }).prepare();
}

const p = sql.placeholder;

/** One prepared statement per LIMIT asked for, made on first use. */
function perLimit<S>(make: (limit: number) => S): (limit: number) => S {
  const made = new Map<number, S>();
  return (limit) => {
    let s = made.get(limit);
    if (!s) made.set(limit, (s = make(limit)));
    return s;
  };
}

export function sqlitePlatformStatements(t: PlatformTables, writeDb: Db, readDb: Db): PlatformStatements {
  // Prepared on first use: SQLite refuses to prepare against a table that does not exist, and
  // the store is opened before its migrations run.
  let s: ReturnType<typeof prepareAll> | undefined;
  const stmts = () => (s ??= prepareAll(t, writeDb, readDb));
  return {
    async appendOutbox(_tx, row) {
      stmts().append.run(row as unknown as Record<string, unknown>);
    },
    async claimInbox(_tx, claims, handledAt) {
      const { claim } = stmts();
      return claims.map(({ eventId, handler }) => claim.run({ eventId, handler, handledAt }).changes === 1);
    },
    async pendingOutbox(limit) {
      return stmts().pending(limit).all();
    },
    async markDispatched(_tx, seqs, at) {
      stmts().mark.run({ seqs: JSON.stringify(seqs), at });
    },
  };
}

function prepareAll(t: PlatformTables, writeDb: Db, readDb: Db) {
  const { outbox, inbox } = t;
  return {
    append: prepared(writeDb.insert(outbox).values({ id: p('id'), type: p('type'), envelope: p('envelope'), createdAt: p('createdAt') })),
    // `changes` tells a fresh claim (1) from one already there (0): no RETURNING needed.
    claim: prepared(writeDb.insert(inbox).values({ eventId: p('eventId'), handler: p('handler'), handledAt: p('handledAt') }).onConflictDoNothing()),
    // The batch size in the text (planned-once.ts: a bound LIMIT is planned anew on every run); a
    // relay asks with one size, so this is one statement.
    pending: perLimit((limit) =>
      prepared<PendingOutboxRow>(
        readDb
          .select({ seq: outbox.seq, type: outbox.type, envelope: outbox.envelope })
          .from(outbox)
          .where(isNull(outbox.dispatchedAt))
          .orderBy(asc(outbox.seq))
          .limit(fixedLimit(limit)),
      ),
    ),
    // One statement for any batch size: the seqs travel as one JSON array.
    mark: prepared(
      writeDb
        .update(outbox)
        .set({ dispatchedAt: p('at') as unknown as Date }) // typed without placeholders; encoded as a Date at run time
        .where(sql`${outbox.seq} in (select value from json_each(${p('seqs')}))`),
    ),
  };
}
