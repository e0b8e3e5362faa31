import { and, desc, eq } from 'drizzle-orm';
import type { ModuleStore } from '../../../platform/data/module-store.ts';
import type { UnitOfWork } from '../../../platform/bus/unit-of-work.ts';
import type { EventEnvelope } from '../../../platform/bus/envelope.ts';
import { requireCaller, requireScope } from '../../../platform/auth/caller.ts';
import type { NotificationsTables } from '../db/schema.ts';
import type { Message } from './compose-messages.ts';

/** Stores the message an event calls for; the event id is its key, so a repeat adds nothing. */
export async function keep(store: ModuleStore<NotificationsTables>, uow: UnitOfWork, envelope: EventEnvelope, message: Message) {
  await uow.db
    .insert(store.tables.notifications)
    .values({ id: envelope.id, ...message, orderId: message.orderId ?? null, occurredAt: new Date(envelope.occurredAt), createdAt: new Date() })
    .onConflictDoNothing();
}

function view(r: NotificationsTables['notifications']['$inferSelect']) {
  return { id: r.id, kind: r.kind, subject: r.subject, body: r.body, orderId: r.orderId ?? undefined, occurredAt: r.occurredAt.toISOString() };
}

export async function listMine(store: ModuleStore<NotificationsTables>, limit: number) {
  const caller = requireCaller();
  const n = store.tables.notifications;
  const rows = await store.db.select().from(n).where(and(eq(n.audience, 'customer'), eq(n.recipient, caller.sub))).orderBy(desc(n.occurredAt)).limit(limit);
  return { items: rows.map(view) };
}

export async function listOperations(store: ModuleStore<NotificationsTables>, limit: number) {
  requireScope('admin');
  const n = store.tables.notifications;
  const rows = await store.db.select().from(n).where(eq(n.audience, 'operations')).orderBy(desc(n.occurredAt)).limit(limit);
  return { items: rows.map(view) };
}
