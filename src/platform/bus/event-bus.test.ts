// One suite, run against both transports (and both engines): what a module sees of the bus must
// not depend on which one carries its events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import { bootApp, type Engine, type TestApp } from '../../../test/support/boot.ts';
import { client } from '../../../test/support/http.ts';
import { eventually } from '../../../test/support/eventually.ts';
import { redisUrl } from '../../../test/support/databases.ts';
import { busPrefix } from '../../../test/support/redis.ts';
import { busFixtures } from '../../../test/support/fixture-modules.ts';
import type { ModuleStore } from '../data/module-store.ts';
import { pruneInbox } from './inbox-consumer.ts';
import { UndeclaredEvent, unitOfWorkFor } from './unit-of-work.ts';
import { defineEvent } from './define-event.ts';
import { ValidationFailed } from '../errors/domain-error.ts';
import { z } from 'zod';
import { EntryRecorded } from '../../../test/fixtures/modules/ledger/index.ts';

const matrix: { bus: 'inprocess' | 'bullmq'; engine: Engine }[] = [
  { bus: 'inprocess', engine: 'sqlite' },
  { bus: 'inprocess', engine: 'pg' },
  { bus: 'bullmq', engine: 'sqlite' },
  { bus: 'bullmq', engine: 'pg' },
];

describe.each(matrix)('event bus: $bus on $engine', ({ bus, engine }) => {
  let t: TestApp;
  let api: ReturnType<typeof client>;
  /** The internal listener, where the admin routes are. */
  let admin: ReturnType<typeof client>;
  let ledger: ModuleStore<any>;
  let tally: ModuleStore<any>;
  const redis = busPrefix();

  const effectsFor = async (entryId: string) =>
    (await tally.db.select().from(tally.tables.effects).where(eq(tally.tables.effects.entryId, entryId))) as { eventId: string }[];
  const deadLetters = async () => (await admin.get('/admin/dead-letters?module=tally')).body.items as any[];

  beforeAll(async () => {
    t = await bootApp({
      engine,
      fixtures: busFixtures(),
      env: { BUS: bus, REDIS_URL: redisUrl(), BUS_PREFIX: redis.prefix, BUS_MAX_ATTEMPTS: '3', BUS_RETRY_DELAY_MS: '10', BUS_POLL_MS: '100' },
    });
    api = client(t.baseUrl, await t.token('ops', ['admin']));
    admin = client(t.internalUrl, await t.token('ops', ['admin']));
    ledger = t.app.stores.get('ledger')!;
    tally = t.app.stores.get('tally')!;
  });
  afterAll(async () => {
    await t?.close();
    await redis.cleanup();
  });

  it('delivers a committed event once, with a complete envelope', async () => {
    const res = await api.post('/api/v1/ledger', { amount: 5 }, { 'x-request-id': 'req-bus-1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect(res.status).toBe(201);
    const [effect] = await eventually(async () => (await effectsFor(res.body.id)).length === 1 && effectsFor(res.body.id), 'handled');
    const [row]: any[] = await ledger.db.select().from(ledger.tables.outbox).where(eq(ledger.tables.outbox.id, effect!.eventId));
    expect(row.envelope).toMatchObject({
      id: effect!.eventId,
      type: 'EntryRecorded',
      version: 1,
      source: 'ledger',
      correlationId: 'req-bus-1',
      payload: { entryId: res.body.id, amount: 5 },
    });
    expect(row.envelope.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(Date.parse(row.envelope.occurredAt)).not.toBeNaN();
    await eventually(async () => ((await ledger.db.select().from(ledger.tables.outbox).where(eq(ledger.tables.outbox.id, effect!.eventId))) as any[])[0].dispatchedAt, 'marked dispatched');
  });

  it('validates a payload when it is published and refuses an undeclared event, writing nothing', async () => {
    const before = (await ledger.db.select().from(ledger.tables.outbox)).length;
    const uow = unitOfWorkFor(ledger, [EntryRecorded], () => {});
    await expect(uow((u) => u.publish(EntryRecorded, { entryId: 'x', amount: 1.5 } as never))).rejects.toBeInstanceOf(ValidationFailed);
    const Other = defineEvent('EntryDeleted', 1, z.object({}));
    await expect(uow((u) => u.publish(Other, {}))).rejects.toBeInstanceOf(UndeclaredEvent);
    expect((await ledger.db.select().from(ledger.tables.outbox)).length).toBe(before);
  });

  it('publishes nothing when the unit of work rolls back', async () => {
    const id = `rb-${randomUUID()}`;
    expect((await api.post('/api/v1/ledger', { amount: 3, rollback: true, id })).status).toBe(409);
    const rows = await ledger.db.select().from(ledger.tables.outbox).where(sql`${ledger.tables.outbox.envelope} is not null`);
    expect(rows.filter((r: any) => r.envelope.payload.entryId === id)).toHaveLength(0);
    expect(await ledger.db.select().from(ledger.tables.entries).where(eq(ledger.tables.entries.id, id))).toHaveLength(0);
  });

  it('retries a failing handler with backoff and handles it once it succeeds', async () => {
    const res = await api.post('/api/v1/ledger', { amount: 7 });
    await eventually(async () => (await effectsFor(res.body.id)).length === 1, 'handled after two failures');
    const metrics = await (await fetch(`${t.internalUrl}/metrics`)).text();
    expect(metrics).toMatch(/bus_handler_failures_total\{subscriber="tally",event="EntryRecorded\.v1"[^}]*\} [2-9]/);
  });

  it('dead-letters an event that keeps failing, without blocking the ones behind it, and replays it', async () => {
    const poison = await api.post('/api/v1/ledger', { amount: 13 });
    const after = await api.post('/api/v1/ledger', { amount: 1 });
    await eventually(async () => (await effectsFor(after.body.id)).length === 1, 'the next event handled');
    const dl = await eventually(async () => (await deadLetters()).find((d) => d.envelope.payload.entryId === poison.body.id), 'dead letter');
    expect(dl).toMatchObject({ module: 'tally', handler: 'EntryRecorded.v1', attempts: 3 });
    expect(dl.reason).toContain('thirteen is unlucky');
    expect(await effectsFor(poison.body.id)).toHaveLength(0);
    // Replaying it fails again (the bug is still there) and leaves a fresh dead letter, never a half-effect.
    expect((await admin.post('/admin/dead-letters/replay', { module: 'tally', seq: dl.seq })).body).toEqual({ replayed: 1 });
    await eventually(async () => (await deadLetters()).find((d) => d.envelope.payload.entryId === poison.body.id && d.seq === dl.seq), 'dead-lettered again');
    expect(await effectsFor(poison.body.id)).toHaveLength(0);
  });

  it('replays a dead letter whose cause has gone, and the effect lands once', async () => {
    const res = await api.post('/api/v1/ledger', { amount: 8 });
    const dl = await eventually(async () => (await deadLetters()).find((d) => d.envelope.payload.entryId === res.body.id), 'dead letter');
    expect(dl.attempts).toBe(3);
    expect((await admin.post('/admin/dead-letters/replay', { module: 'tally' })).body.replayed).toBeGreaterThanOrEqual(1);
    await eventually(async () => (await effectsFor(res.body.id)).length === 1, 'handled on replay');
    expect((await deadLetters()).find((d) => d.envelope.payload.entryId === res.body.id)).toBeUndefined();
  });

  it('sends an invalid payload or an unknown event type straight to dead letters', async () => {
    const bad = { id: randomUUID(), type: 'EntryRecorded', version: 1, source: 'ledger', occurredAt: new Date().toISOString(), correlationId: 'c', payload: { entryId: 42 } };
    const unknown = { id: randomUUID(), type: 'EntryDeleted', version: 9, source: 'ledger', occurredAt: new Date().toISOString(), correlationId: 'c', payload: {} };
    await t.app.bus.transport.deliver([{ envelope: bad, subscribers: ['tally'] }, { envelope: unknown, subscribers: ['tally'] }]);
    const dls = await eventually(async () => {
      const all = await deadLetters();
      const b = all.find((d) => d.eventId === bad.id);
      const u = all.find((d) => d.eventId === unknown.id);
      return b && u && { b, u };
    }, 'both dead-lettered');
    expect(dls.b).toMatchObject({ attempts: 1 });
    expect(dls.b.reason).toMatch(/invalid EntryRecorded\.v1 payload: entryId/);
    expect(dls.u.reason).toBe('tally has no handler for event type EntryDeleted.v9');
    // And the bus keeps flowing.
    const next = await api.post('/api/v1/ledger', { amount: 2 });
    await eventually(async () => (await effectsFor(next.body.id)).length === 1, 'later event handled');
  });

  it('recognises a redelivered event in the inbox and applies it once', async () => {
    const entryId = `dup-${randomUUID()}`;
    const envelope = { id: randomUUID(), type: 'EntryRecorded', version: 1, source: 'ledger', occurredAt: new Date().toISOString(), correlationId: 'c', payload: { entryId, amount: 4 } };
    await t.app.bus.transport.deliver([{ envelope, subscribers: ['tally'] }]);
    await eventually(async () => (await effectsFor(entryId)).length === 1, 'first delivery handled');
    await t.app.bus.transport.redeliver('tally', envelope);
    await t.app.bus.transport.redeliver('tally', envelope);
    await eventually(async () => {
      const m = await (await fetch(`${t.internalUrl}/metrics`)).text();
      return /bus_events_handled_total\{subscriber="tally",event="EntryRecorded\.v1",outcome="duplicate"[^}]*\} [2-9]/.test(m);
    }, 'duplicates seen');
    expect(await effectsFor(entryId)).toHaveLength(1);
  });

  it('delivers rows committed without a kick (a crash, another process) on its poll', async () => {
    const entryId = `poll-${randomUUID()}`;
    const id = randomUUID();
    await ledger.transaction(async (tx) => {
      await tx.insert(ledger.tables.outbox).values({
        id, type: 'EntryRecorded.v1', createdAt: new Date(),
        envelope: { id, type: 'EntryRecorded', version: 1, source: 'ledger', occurredAt: new Date().toISOString(), correlationId: 'c', payload: { entryId, amount: 6 } },
      });
    });
    await eventually(async () => (await effectsFor(entryId)).length === 1, 'polled and handled');
  });

  it('shows the bus in metrics and readiness', async () => {
    const ready = (await (await fetch(`${t.baseUrl}/health/ready`)).json()) as any;
    expect(ready.checks[`bus:${bus}`]).toBe('ok');
    // The relay may still be moving the last rows: wait for the backlog to reach zero.
    const m = await eventually(async () => {
      const text = await (await fetch(`${t.internalUrl}/metrics`)).text();
      return /bus_outbox_backlog\{module="ledger"[^}]*\} 0/.test(text) && text;
    }, 'backlog drained');
    expect(m).toMatch(/bus_events_handled_total\{subscriber="tally",event="EntryRecorded\.v1",outcome="handled"/);
    expect(m).toMatch(/bus_events_handled_total\{[^}]*outcome="dead_lettered"/);
    expect(m).toMatch(/bus_delivery_lag_seconds_bucket\{/);
    expect(m).toMatch(/bus_dead_letters\{module="tally"[^}]*\} [1-9]/);
  });

  it('prunes inbox rows older than the redelivery window, and only those', async () => {
    const { inbox } = tally.tables;
    const old = new Date(Date.now() - 30 * 24 * 3600 * 1000);
    const oldId = `old-${randomUUID()}`;
    const youngId = `young-${randomUUID()}`;
    await tally.transaction(async (tx) => {
      await tx.insert(inbox).values({ eventId: oldId, handler: 'X.v1', handledAt: old });
      await tx.insert(inbox).values({ eventId: youngId, handler: 'X.v1', handledAt: new Date(Date.now() - 13 * 24 * 3600 * 1000) });
    });
    // By id, not by count: the kernel's own hourly prune may run at any moment of the test too.
    const ids = async () => ((await tally.db.select({ eventId: inbox.eventId }).from(inbox)) as { eventId: string }[]).map((r) => r.eventId);
    const recent = (await ids()).filter((id) => id !== oldId);
    expect(recent).toContain(youngId);
    await pruneInbox(tally, new Date(Date.now() - 14 * 24 * 3600 * 1000));
    const after = await ids();
    expect(after).not.toContain(oldId);
    expect(after).toEqual(expect.arrayContaining(recent));
  });

  it('keeps the tally equal to the ledger', async () => {
    await eventually(async () => {
      const entries = await ledger.db.select().from(ledger.tables.entries);
      const handled = entries.filter((e: any) => e.amount !== 13);
      const [total] = await tally.db.select().from(tally.tables.totals);
      const injected = 4 + 6; // delivered straight through the transport, not via the ledger
      return total && total.sum === handled.reduce((s: number, e: any) => s + e.amount, 0) + injected;
    }, 'tally matches ledger');
  });
});
