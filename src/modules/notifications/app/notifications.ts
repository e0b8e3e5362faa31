import { and, desc, getTableColumns } from 'drizzle-orm';
import { bound, preparedWrite, type PreparedWrite } from '../../../platform/data/prepared-write.ts';
import type { ModuleStore } from '../../../platform/data/module-store.ts';
import type { UnitOfWork } from '../../../platform/bus/unit-of-work.ts';
import type { EventEnvelope } from '../../../platform/bus/envelope.ts';
import { requireCaller, requireScope } from '../../../platform/auth/caller.ts';
import type { NotificationsTables } from '../db/schema.ts';
import type { Message } from './compose-messages.ts';
import { fixedLimit, textEquals } from '../../../platform/data/planned-once.ts';

/** The insert every order's notification runs, built once per store (prepared-write.ts). */
const inserts = new WeakMap<object, PreparedWrite<never>>();
function insertFor(store: ModuleStore<NotificationsTables>): PreparedWrite<never> {
  let stmt = inserts.get(store);
  if (!stmt) {
    const n = store.tables.notifications;
    const columns = Object.entries(getTableColumns(n)).map(([k, column]) => [k, bound(column, k)]);
    stmt = preparedWrite(store as unknown as ModuleStore, 'keep', (db) => db.insert(n).values(Object.fromEntries(columns) as never).onConflictDoNothing());
    inserts.set(store, stmt);
  }
  return stmt;
}

/** Stores the message an event calls for; the event id is its key, so a repeat adds nothing. */
export async function keep(store: ModuleStore<NotificationsTables>, uow: UnitOfWork, envelope: EventEnvelope, message: Message) {
  await insertFor(store).later(uow.db, { id: envelope.id, ...message, orderId: message.orderId ?? null, occurredAt: new Date(envelope.occurredAt), createdAt: new Date() });
}

function view(r: NotificationsTables['notifications']['$inferSelect']) {
  return { id: r.id, kind: r.kind, subject: r.subject, body: r.body, orderId: r.orderId ?? undefined, occurredAt: r.occurredAt.toISOString() };
}

export async function listMine(store: ModuleStore<NotificationsTables>, limit: number) {
  const caller = requireCaller();
  const n = store.tables.notifications;
  const rows = await store.db.select().from(n).where(and(textEquals(n.audience, 'customer'), textEquals(n.recipient, caller.sub))).orderBy(desc(n.occurredAt)).limit(fixedLimit(limit));
  return { items: rows.map(view) };
}

export async function listOperations(store: ModuleStore<NotificationsTables>, limit: number) {
  requireScope('admin');
  const n = store.tables.notifications;
  const rows = await store.db.select().from(n).where(textEquals(n.audience, 'operations')).orderBy(desc(n.occurredAt)).limit(fixedLimit(limit));
  return { items: rows.map(view) };
}
