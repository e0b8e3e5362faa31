// A request sent again with its Idempotency-Key, after the first was answered: the wrapper looks
// the key up before the handler and answers a retry from the store without running it again; a
// key used for another request is refused with 422 and writes nothing; a request that failed left
// no key, so its retry runs afresh. (Without the lookup, a retry would find the key at its claim;
// measured slower on Postgres and not kept, decision 36.) Both engines, through the real wrapper.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import { idempotent, sendStored } from '../../src/platform/http/idempotency.ts';
import { problemHandler } from '../../src/platform/http/problem.ts';
import { Conflict } from '../../src/platform/errors/domain-error.ts';
import { createLogger } from '../../src/platform/logging/logger.ts';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import { ordersSchema } from '../../src/modules/orders/db/schema.ts';
import { engines } from '../support/boot.ts';
import { storeOn } from '../support/store-on-engine.ts';
import { serveOnLoopback } from '../support/http.ts';

describe.each(engines)('an Idempotency-Key sent again on %s', (engine) => {
  let store: ModuleStore;
  let close: () => Promise<void>;
  let served: Awaited<ReturnType<typeof serveOnLoopback>> | undefined;
  let base: string;
  /** How often the handler ran, and whether it now fails before its unit (the state moved on). */
  let runs = 0;
  let failBeforeUnit = false;

  const effectRow = (who: string) => ({ eventId: `made-by-${who}`, handler: 'effect', envelope: {}, reason: 'effect', attempts: 0, createdAt: new Date() });

  beforeAll(async () => {
    ({ store, close } = await storeOn(engine, ordersSchema));
    const app = express();
    app.use(express.json());
    app.post('/things', idempotent(store, 3600, async (req, res, key) => {
      runs++;
      if (failBeforeUnit) throw new Conflict('the state moved on');
      const who = (req.body as { who: string }).who;
      const response = { status: 201, body: { made: who } };
      await store.transaction(async (tx) => {
        await tx.insert(store.tables.deadLetters).values(effectRow(`${who}-${runs}`) as never);
        await key.record({ db: tx, publish: async () => {} }, response);
      });
      sendStored(res, response, false);
    }));
    app.use(problemHandler(createLogger('silent', { deployable: 'idempotency-retry-test' })));
    served = await serveOnLoopback(app);
    base = served.base;
  });
  afterAll(async () => {
    await served?.close();
    await close?.();
  });

  const post = async (key: string, who: string) => {
    const r = await fetch(`${base}/things`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify({ who }) });
    return { status: r.status, replayed: r.headers.get('idempotent-replayed') === 'true', body: (await r.json()) as { made?: string; code?: string } };
  };
  const effects = async () => (await store.db.select().from(store.tables.deadLetters)).map((e) => e.eventId).sort();
  const reset = async () => {
    runs = 0;
    failBeforeUnit = false;
    await store.writeStatement((db) => db.delete(store.tables.deadLetters).returning());
    await store.writeStatement((db) => db.delete(store.tables.idempotencyKeys).returning());
  };

  it('answers the retry from the store without running its handler again', async () => {
    await reset();
    expect(await post('k-1', 'a')).toEqual({ status: 201, replayed: false, body: { made: 'a' } });
    expect(await post('k-1', 'a')).toEqual({ status: 201, replayed: true, body: { made: 'a' } });
    expect(runs).toBe(1);
    expect(await effects()).toEqual(['made-by-a-1']);
  });

  it('replays the first answer to a retry whose handler would now fail', async () => {
    await reset();
    await post('k-2', 'a');
    failBeforeUnit = true;
    expect(await post('k-2', 'a')).toEqual({ status: 201, replayed: true, body: { made: 'a' } });
    expect(runs).toBe(1);
    expect(await effects()).toEqual(['made-by-a-1']);
  });

  it('refuses the key on another request with 422, whether or not that request would succeed', async () => {
    await reset();
    await post('k-3', 'a');
    expect(await post('k-3', 'b')).toMatchObject({ status: 422, body: { code: 'IdempotencyKeyReused' } });
    failBeforeUnit = true;
    expect(await post('k-3', 'b')).toMatchObject({ status: 422, body: { code: 'IdempotencyKeyReused' } });
    expect(await effects()).toEqual(['made-by-a-1']);
  });

  it('keeps nothing of a request that failed, so its error is the answer and the retry runs afresh', async () => {
    await reset();
    failBeforeUnit = true;
    expect(await post('k-4', 'a')).toMatchObject({ status: 409, body: { code: 'Conflict' } });
    failBeforeUnit = false;
    expect(await post('k-4', 'a')).toEqual({ status: 201, replayed: false, body: { made: 'a' } });
    expect(await effects()).toEqual(['made-by-a-2']);
  });
});
