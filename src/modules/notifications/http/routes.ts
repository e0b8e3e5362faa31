import type { Router } from 'express';
import { strictRouter } from '../../../platform/http/strict-router.ts';
import { z } from 'zod';
import { parseOrThrow } from '../../../platform/errors/validation.ts';
import type { ModuleStore } from '../../../platform/data/module-store.ts';
import type { NotificationsTables } from '../db/schema.ts';
import { listMine, listOperations } from '../app/notifications.ts';

const Query = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) });

export function notificationsRoutes(store: ModuleStore<NotificationsTables>): Router {
  const r = strictRouter();
  r.get('/api/v1/customers/me/notifications', async (req, res) => {
    res.json(await listMine(store, parseOrThrow(Query, req.query, 'query').limit));
  });
  r.get('/api/v1/notifications/operations', async (req, res) => {
    res.json(await listOperations(store, parseOrThrow(Query, req.query, 'query').limit));
  });
  return r;
}
