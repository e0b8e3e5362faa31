// Several events of one broker job handled in one unit of work (inbox-consumer.ts `together`), on
// both engines: one unit for all of them, each event claimed and applied once, and when one of them
// fails, the unit rolls back and every event is handled alone, so the others are neither lost nor
// applied twice and the failing one is retried or dead-lettered as it would be on its own.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { eq, inArray } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import { moduleOn } from '../support/module-on-engine.ts';
import { engines } from '../support/boot.ts';
import tally from '../fixtures/modules/tally/module.ts';
import { EntryRecorded } from '../fixtures/modules/ledger/index.ts';
import { inboxConsumer } from '../../src/platform/bus/inbox-consumer.ts';
import { unitOfWorkFor, type RunUnitOfWork } from '../../src/platform/bus/unit-of-work.ts';
import { envelopeFor, type EventEnvelope } from '../../src/platform/bus/envelope.ts';
import { busMetrics } from '../../src/platform/bus/bus-metrics.ts';
import { createMetrics } from '../../src/platform/metrics/registry.ts';
import { createLogger } from '../../src/platform/logging/logger.ts';
import { on } from '../../src/platform/modules/define-module.ts';
import type { ModuleHarness } from '../../src/platform/testing/module-harness.ts';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import { bound, preparedWrite, type PreparedWrite } from '../../src/platform/data/prepared-write.ts';

describe.each(engines)('events of one job handled together, on %s', (engine) => {
  let h: ModuleHarness;
  let store: ModuleStore<any>;
  let units = 0;
  const calls = new Map<string, number>();
  const metrics = busMetrics(createMetrics());
  let consumer: ReturnType<typeof inboxConsumer>;
  let refused: PreparedWrite<never>;

  beforeAll(async () => {
    h = await moduleOn(engine, tally);
    store = h.store as ModuleStore<any>;
    const run = unitOfWorkFor(store, [], () => {});
    const counted: RunUnitOfWork = (fn) => {
      units++;
      return run(fn);
    };
    const effectsTable = store.tables.effects;
    refused = preparedWrite(store, 'refused_effect', (db) => db.insert(effectsTable).values({ entryId: bound(effectsTable.entryId, 'entryId'), eventId: bound(effectsTable.eventId, 'eventId') } as never));
    consumer = inboxConsumer({
      module: 'tally',
      store,
      unitOfWork: counted,
      logger: createLogger('silent'),
      metrics,
      // amount 13 always fails; 14 writes, with `later`, a row its table refuses (on Postgres the
      // write goes with the next statement, or the COMMIT); 15 records its effect with `later`;
      // every other amount is recorded, once per event, in `effects`.
      subscriptions: [
        on(EntryRecorded, async ({ entryId, amount }, uow, envelope) => {
          calls.set(entryId, (calls.get(entryId) ?? 0) + 1);
          if (amount === 14) return refused.later(uow.db, { entryId, eventId: null });
          if (amount === 15) return refused.later(uow.db, { entryId, eventId: envelope.id });
          await uow.db.insert(store.tables.effects).values({ entryId, eventId: envelope.id });
          if (amount === 13) throw new Error('thirteen is unlucky');
        }),
      ],
    });
  }, 120_000);
  afterAll(() => h?.close());

  const entry = (amount: number) => envelopeFor('ledger', EntryRecorded, { entryId: `e-${randomUUID()}`, amount });
  const entryId = (e: EventEnvelope) => (e.payload as { entryId: string }).entryId;
  const effects = async (events: EventEnvelope[]) => {
    const rows = (await store.db.select().from(store.tables.effects).where(inArray(store.tables.effects.entryId, events.map(entryId)))) as { entryId: string }[];
    return events.map((e) => rows.filter((r) => r.entryId === entryId(e)).length);
  };
  const value = async (metric: 'handled' | 'failures', labels: Record<string, string>) =>
    (await metrics[metric].get()).values.find((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))?.value ?? 0;
  const statuses = (outcomes: PromiseSettledResult<void>[]) => outcomes.map((o) => o.status);

  it('handles every event of the job in one unit of work, each once', async () => {
    const events = [entry(1), entry(2), entry(3), entry(4)];
    const before = units;
    expect(statuses(await consumer.together(events, 1, 3))).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(units - before).toBe(1);
    expect(await effects(events)).toEqual([1, 1, 1, 1]);
  });

  it('handles an event the job holds twice once: the second is a duplicate', async () => {
    const e = entry(1);
    const duplicates = await value('handled', { outcome: 'duplicate' });
    expect(statuses(await consumer.together([e, entry(2), e], 1, 3))).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(calls.get(entryId(e))).toBe(1);
    expect(await value('handled', { outcome: 'duplicate' })).toBe(duplicates + 1);
    expect(await effects([e])).toEqual([1]);
  });

  // Round trips are Postgres's: on SQLite each statement is a call into the same process.
  if (engine === 'pg') it('claims the events of a job in one statement: with writes held to the COMMIT, the unit is two round trips', async () => {
    const events = [entry(15), entry(15), entry(15), entry(15)];
    const sent = vi.spyOn(pg.Client.prototype, 'query');
    try {
      expect(statuses(await consumer.together(events, 1, 3))).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
      // BEGIN with the claims; the four held writes with the COMMIT.
      expect(sent).toHaveBeenCalledTimes(2);
    } finally {
      sent.mockRestore();
    }
    expect(await effects(events)).toEqual([1, 1, 1, 1]);
  });

  it('skips, inside the shared unit, the events its inbox already holds', async () => {
    const events = [entry(1), entry(2)];
    await consumer.together(events, 1, 3);
    const duplicates = await value('handled', { outcome: 'duplicate' });
    const before = units;
    expect(statuses(await consumer.together([...events, entry(5)], 1, 3))).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(units - before).toBe(1);
    expect(await value('handled', { outcome: 'duplicate' })).toBe(duplicates + 2);
    expect(await effects(events)).toEqual([1, 1]);
  });

  it('rolls the shared unit back when one event fails: its attempt has failed, and the others are handled alone, once', async () => {
    const [a, bad, c] = [entry(1), entry(13), entry(3)];
    const failures = await value('failures', {});
    const before = units;
    const outcomes = await consumer.together([a, bad, c], 1, 3);
    expect(statuses(outcomes)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe('thirteen is unlucky');
    // One shared unit that failed, then one for each of the others.
    expect(units - before).toBe(3);
    // The failing event's handler ran once in this attempt, as it would alone, and counts one failure.
    expect(calls.get(entryId(bad))).toBe(1);
    expect(await value('failures', {})).toBe(failures + 1);
    // Nothing of the shared unit survived its rollback: the others' effects are those of their own units.
    expect(await effects([a, bad, c])).toEqual([1, 0, 1]);
    expect(calls.get(entryId(a))).toBe(2);
  });

  it('dead-letters on the last attempt the event that keeps failing, and the others are handled', async () => {
    const [a, bad] = [entry(1), entry(13)];
    expect(statuses(await consumer.together([a, bad], 3, 3))).toEqual(['fulfilled', 'fulfilled']);
    expect(calls.get(entryId(bad))).toBe(1);
    const letters = (await store.db.select().from(store.tables.deadLetters).where(eq(store.tables.deadLetters.eventId, bad.id))) as { reason: string; attempts: number }[];
    expect(letters).toMatchObject([{ attempts: 3 }]);
    expect(letters[0]!.reason).toContain('thirteen is unlucky');
    expect(await effects([a, bad])).toEqual([1, 0]);
  });

  it('blames the event whose held write was refused, not the next one, whose statement carried it', async () => {
    const [bad, a] = [entry(14), entry(1)];
    // The last attempt: whichever event is blamed is dead-lettered.
    expect(statuses(await consumer.together([bad, a], 3, 3))).toEqual(['fulfilled', 'fulfilled']);
    const letters = (await store.db.select().from(store.tables.deadLetters).where(inArray(store.tables.deadLetters.eventId, [bad.id, a.id]))) as { eventId: string; reason: string }[];
    expect(letters.map((l) => l.eventId)).toEqual([bad.id]);
    expect(letters[0]!.reason).toMatch(/null/i);
    expect(await effects([bad, a])).toEqual([0, 1]);
  });

  it('dead-letters an event it cannot read and handles the rest of the job together', async () => {
    const poison = { ...entry(1), payload: { entryId: 42 } } as EventEnvelope;
    const [a, b] = [entry(1), entry(2)];
    const before = units;
    expect(statuses(await consumer.together([a, poison, b], 1, 3))).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(units - before).toBe(1);
    expect(await effects([a, b])).toEqual([1, 1]);
    const letters = (await store.db.select().from(store.tables.deadLetters).where(eq(store.tables.deadLetters.eventId, poison.id))) as { reason: string }[];
    expect(letters[0]?.reason).toMatch(/^invalid EntryRecorded\.v1 payload: entryId/);
  });
});
