// Two requests with one Idempotency-Key that both find it unclaimed: each runs its effect in a
// unit of work that claims the key, and only one may commit. The other's claim changes no row (a
// live key holds it), which fails its unit, so its effect is rolled back with it, and it answers
// the first one's response as a replay. On Postgres the claim is held for the unit's COMMIT, so
// the loser learns it there; on SQLite at once. Both engines, through the real wrapper.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import type { Server } from 'node:http';
import { count } from 'drizzle-orm';
import { idempotent, sendStored } from '../../src/platform/http/idempotency.ts';
import { problemHandler } from '../../src/platform/http/problem.ts';
import { createLogger } from '../../src/platform/logging/logger.ts';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import { ordersSchema } from '../../src/modules/orders/db/schema.ts';
import { engines } from '../support/boot.ts';
import { storeOn } from '../support/store-on-engine.ts';

describe.each(engines)('an Idempotency-Key claimed by two requests at once on %s', (engine) => {
  let store: ModuleStore;
  let close: () => Promise<void>;
  let server: Server;
  let base: string;
  /** Resolves once `arrivals` handlers have started: both requests have looked the key up. */
  let bothLookedUp: Promise<void>;
  let arrived: () => void;
  let arrivals = 0;

  beforeAll(async () => {
    ({ store, close } = await storeOn(engine, ordersSchema));
    const app = express();
    app.use(express.json());
    app.post(
      '/things',
      idempotent(store, 3600, async (req, res, key) => {
        if (++arrivals === 2) arrived();
        await bothLookedUp;
        const response = { status: 201, body: { made: req.get('x-who') } };
        await store.transaction(async (tx) => {
          // The effect: a row that stays only if this unit commits.
          await tx.insert(store.tables.deadLetters).values({ eventId: `made-by-${req.get('x-who')}`, handler: 'effect', envelope: {} as never, reason: 'effect', attempts: 0, createdAt: new Date() });
          await key.record({ db: tx, publish: async () => {} }, response);
        });
        sendStored(res, response, false);
      }),
    );
    app.use(problemHandler(createLogger('silent', { deployable: 'idempotency-race-test' })));
    await new Promise<void>((r) => (server = app.listen(0, '127.0.0.1', () => r())));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await close?.();
  });

  it('commits one effect and answers the other request with its response, as a replay', async () => {
    bothLookedUp = new Promise((r) => (arrived = r));
    const post = (who: string) =>
      fetch(`${base}/things`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'race-1', 'x-who': who }, body: '{"same":"body"}' });
    const [a, b] = await Promise.all([post('a'), post('b')]);
    const answers = [
      { status: a.status, replayed: a.headers.get('idempotent-replayed'), body: await a.json() },
      { status: b.status, replayed: b.headers.get('idempotent-replayed'), body: await b.json() },
    ];
    expect(answers.map((x) => x.status)).toEqual([201, 201]);
    // One answered fresh, the other replayed the same body.
    expect(answers.filter((x) => x.replayed === 'true')).toHaveLength(1);
    expect(answers[0]!.body).toEqual(answers[1]!.body);
    const winner = (answers.find((x) => x.replayed === null)!.body as { made: string }).made;
    // The loser's effect was rolled back with its claim; the key holds the winner's answer.
    const effects = await store.db.select().from(store.tables.deadLetters);
    expect(effects.map((e) => e.eventId)).toEqual([`made-by-${winner}`]);
    const keys = await store.db.select().from(store.tables.idempotencyKeys);
    expect(keys.map((k) => [k.key, k.response])).toEqual([['race-1', { made: winner }]]);
    expect((await store.db.select({ n: count() }).from(store.tables.idempotencyKeys))[0]!.n).toBe(1);
  });
});
