// Requests with one Idempotency-Key that all find it unclaimed: each runs its effect in a unit of
// work that claims the key, and only one may commit. Another's claim changes no row (a live key
// holds it), which fails its unit, so its effect is rolled back with it, and it answers the first
// one's response as a replay. On Postgres the claim is held for the unit's COMMIT, so a loser
// learns it there (alone, or in a commit group of units whose writes are all held, which is then
// refused and whose units commit alone); on SQLite at once. Both engines, through the real wrapper.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express, { type Request } from 'express';
import { setTimeout as sleep } from 'node:timers/promises';
import { idempotent, sendStored, type IdempotencyKey } from '../../src/platform/http/idempotency.ts';
import { problemHandler } from '../../src/platform/http/problem.ts';
import { createLogger } from '../../src/platform/logging/logger.ts';
import type { Db, ModuleStore } from '../../src/platform/data/module-store.ts';
import { bound, preparedWrite } from '../../src/platform/data/prepared-write.ts';
import { ordersSchema } from '../../src/modules/orders/db/schema.ts';
import { engines } from '../support/boot.ts';
import { storeOn } from '../support/store-on-engine.ts';
import { serveOnLoopback } from '../support/http.ts';

interface Answer {
  who: string;
  status: number;
  replayed: boolean;
  body: { made?: string; code?: string };
}

describe.each(engines)('an Idempotency-Key claimed by requests at once on %s', (engine) => {
  let store: ModuleStore;
  let close: () => Promise<void>;
  let served: Awaited<ReturnType<typeof serveOnLoopback>> | undefined;
  let base: string;
  /** The handlers wait here until `expected` of them have started: all have looked the key up. */
  let expected = 0;
  let started = 0;
  let allLookedUp: Promise<void> = Promise.resolve();
  let letGo = () => {};
  const awaitAll = (n: number) => {
    expected = n;
    started = 0;
    allLookedUp = new Promise((r) => (letGo = r));
  };
  let holderClaimed: Promise<void> = Promise.resolve();
  let claimed = () => {};

  /** The effect: a row that stays only if its unit commits. */
  const effectRow = (who: string) => ({ eventId: `made-by-${who}`, handler: 'effect', envelope: {}, reason: 'effect', attempts: 0, createdAt: new Date() });
  let heldEffect: ReturnType<typeof preparedWrite>;

  const unit = (key: IdempotencyKey, who: string, fn: (tx: Db) => Promise<void>) =>
    store.transaction(async (tx) => {
      await fn(tx);
      await key.record({ db: tx, publish: async () => {} }, { status: 201, body: { made: who } });
    });
  const handler = (run: (req: Request, key: IdempotencyKey, who: string) => Promise<void>) =>
    async (req: Request, res: express.Response, key: IdempotencyKey) => {
      const who = req.get('x-who')!;
      if (++started === expected) letGo();
      await allLookedUp;
      await run(req, key, who);
      sendStored(res, { status: 201, body: { made: who } }, false);
    };

  beforeAll(async () => {
    ({ store, close } = await storeOn(engine, ordersSchema));
    const d = store.tables.deadLetters;
    heldEffect = preparedWrite(store, 'race_effect', (db) =>
      db.insert(d).values({ eventId: bound(d.eventId, 'eventId'), handler: bound(d.handler, 'handler'), envelope: bound(d.envelope, 'envelope'), reason: bound(d.reason, 'reason'), attempts: bound(d.attempts, 'attempts'), createdAt: bound(d.createdAt, 'createdAt') } as never),
    );
    const app = express();
    app.use(express.json());
    // The effect written at once (on Postgres the unit has begun; its claim goes with its COMMIT).
    app.post('/now', idempotent(store, 3600, handler(async (_req, key, who) => {
      await unit(key, who, async (tx) => void (await tx.insert(store.tables.deadLetters).values(effectRow(who) as never)));
    })));
    // Every write held for the COMMIT, as an order's placement: on Postgres units ending in one
    // turn commit together.
    app.post('/held', idempotent(store, 3600, handler(async (_req, key, who) => {
      await unit(key, who, (tx) => heldEffect.later(tx, effectRow(who)));
    })));
    // A key that lives 3 s: the holder sends its claim, then keeps its unit open past the key's
    // life; the other's claim waits on it, finds it live when its wait ends, and looks for an
    // answer that has expired meanwhile.
    app.post('/short', idempotent(store, 3, handler(async (_req, key, who) => {
      if (who === 'holder') {
        await store.transaction(async (tx) => {
          await key.record({ db: tx, publish: async () => {} }, { status: 201, body: { made: who } });
          // An immediate statement sends the held claim ahead of it: the key's row is now locked.
          await tx.insert(store.tables.deadLetters).values(effectRow(who) as never);
          claimed();
          await sleep(4500);
        });
      } else {
        await holderClaimed;
        await unit(key, who, async () => {});
      }
    })));
    app.use(problemHandler(createLogger('silent', { deployable: 'idempotency-race-test' })));
    served = await serveOnLoopback(app);
    base = served.base;
  });
  afterAll(async () => {
    await served?.close();
    await close?.();
  });

  const post = async (path: string, key: string, who: string): Promise<Answer> => {
    const r = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key, 'x-who': who }, body: '{"same":"body"}' });
    return { who, status: r.status, replayed: r.headers.get('idempotent-replayed') === 'true', body: (await r.json()) as Answer['body'] };
  };
  const effects = async () => (await store.db.select().from(store.tables.deadLetters)).map((e) => e.eventId).sort();
  const keyRows = async () => (await store.db.select().from(store.tables.idempotencyKeys)).map((k) => [k.key, k.response] as const).sort();
  const clear = async () => {
    await store.writeStatement((db) => db.delete(store.tables.deadLetters).returning());
    await store.writeStatement((db) => db.delete(store.tables.idempotencyKeys).returning());
  };

  it('commits one effect and answers the other request with its response, as a replay', async () => {
    await clear();
    awaitAll(2);
    const answers = await Promise.all([post('/now', 'race-1', 'a'), post('/now', 'race-1', 'b')]);
    expect(answers.map((x) => x.status)).toEqual([201, 201]);
    const fresh = answers.filter((x) => !x.replayed);
    expect(fresh).toHaveLength(1);
    const winner = fresh[0]!.who;
    // The other one answered the winner's body; its own effect went back with its claim.
    expect(answers.map((x) => x.body)).toEqual([{ made: winner }, { made: winner }]);
    expect(await effects()).toEqual([`made-by-${winner}`]);
    expect(await keyRows()).toEqual([['race-1', { made: winner }]]);
  });

  it('among units whose writes are all held, ending together, loses only the loser’s effect', async () => {
    await clear();
    awaitAll(5);
    const answers = await Promise.all([post('/held', 'shared', 'a'), post('/held', 'shared', 'b'), post('/held', 'own-c', 'c'), post('/held', 'own-d', 'd'), post('/held', 'own-e', 'e')]);
    expect(answers.map((x) => x.status)).toEqual([201, 201, 201, 201, 201]);
    const pair = answers.slice(0, 2);
    expect(pair.filter((x) => x.replayed)).toHaveLength(1);
    const winner = pair.find((x) => !x.replayed)!.who;
    expect(pair.map((x) => x.body)).toEqual([{ made: winner }, { made: winner }]);
    // The three with keys of their own answered fresh, and every effect but the loser's is kept once.
    expect(answers.slice(2).map((x) => [x.replayed, x.body.made])).toEqual([[false, 'c'], [false, 'd'], [false, 'e']]);
    expect(await effects()).toEqual([winner, 'c', 'd', 'e'].map((w) => `made-by-${w}`).sort());
    expect(await keyRows()).toEqual([['own-c', { made: 'c' }], ['own-d', { made: 'd' }], ['own-e', { made: 'e' }], ['shared', { made: winner }]]);
  });

  // Postgres only: on SQLite units run one after the other, so the other's claim, made once the
  // holder's unit has ended, finds the key expired and takes it.
  if (engine === 'pg') it('answers 409, nothing kept, when the key that beat it expired before its answer could be read', async () => {
    await clear();
    awaitAll(2);
    holderClaimed = new Promise((r) => (claimed = r));
    const [holder, other] = await Promise.all([post('/short', 'brief', 'holder'), post('/short', 'brief', 'other')]);
    expect(holder).toMatchObject({ status: 201, replayed: false, body: { made: 'holder' } });
    expect(other).toMatchObject({ status: 409, body: { code: 'IdempotencyKeyContended' } });
    expect(await effects()).toEqual(['made-by-holder']);
  }, 60_000);
});
