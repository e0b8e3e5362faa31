import type { Router } from 'express';
import { strictRouter } from '../../../platform/http/strict-router.ts';
import { z } from 'zod';
import { route } from '../../../platform/http/route.ts';
import type { ModuleStore } from '../../../platform/data/module-store.ts';
import type { NotificationsTables } from '../db/schema.ts';
import { listMine, listOperations } from '../app/notifications.ts';

const Query = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: 'How many, newest first' }) });
const Notification = z.object({
  id: z.string(),
  kind: z.string(),
  subject: z.string(),
  body: z.string(),
  orderId: z.string().optional(),
  occurredAt: z.string(),
});
const Notifications = z.object({ items: z.array(Notification) });

export function notificationsRoutes(store: ModuleStore<NotificationsTables>): Router {
  const r = strictRouter();
  route(r, {
    method: 'get',
    path: '/api/v1/customers/me/notifications',
    summary: 'What the caller was told about their orders and payments',
    query: Query,
    responses: { 200: { description: 'The newest notifications first', body: Notifications } },
    handler: async ({ query }, res) => {
      res.json(await listMine(store, query.limit));
    },
  });
  route(r, {
    method: 'get',
    path: '/api/v1/notifications/operations',
    summary: 'Notices for operators (low stock)',
    auth: 'admin',
    query: Query,
    responses: { 200: { description: 'The newest notices first', body: Notifications } },
    handler: async ({ query }, res) => {
      res.json(await listOperations(store, query.limit));
    },
  });
  return r;
}
