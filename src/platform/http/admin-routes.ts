// Operator endpoints of a deployable, behind an admin-scoped token.
import type { Router } from 'express';
import { strictRouter } from './strict-router.ts';
import { z } from 'zod';
import type { EventBus } from '../bus/event-bus.ts';
import { requireScope } from '../auth/caller.ts';
import { parseOrThrow } from '../errors/validation.ts';

const ReplayBody = z.strictObject({ module: z.string().min(1), seq: z.number().int().positive().optional() });

export function adminRoutes(bus: EventBus): Router {
  const r = strictRouter();
  r.use((_req, _res, next) => {
    requireScope('admin');
    next();
  });
  r.get('/dead-letters', async (req, res) => {
    const module = typeof req.query.module === 'string' ? req.query.module : undefined;
    res.json({ items: await bus.deadLetters(module) });
  });
  r.post('/dead-letters/replay', async (req, res) => {
    const { module, seq } = parseOrThrow(ReplayBody, req.body, 'body');
    res.json({ replayed: await bus.replay(module, seq) });
  });
  return r;
}
