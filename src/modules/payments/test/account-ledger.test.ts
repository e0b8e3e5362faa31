import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { bootApp, engines, type TestApp } from '../../../../test/support/boot.ts';
import { eventually } from '../../../../test/support/eventually.ts';
import { paymentsContract, PaymentClosed, PaymentDeclined, PaymentUnavailable } from '../index.ts';
import type { ContractApi } from '../../../platform/contracts/define-contract.ts';
import type { ModuleStore } from '../../../platform/data/module-store.ts';
import type { PaymentsTables } from '../db/schema.ts';
import { eventStore, isStreamConflict } from '../db/event-store.ts';
import { apply, emptyAccount } from '../domain/account.ts';
import { charge } from '../app/charge.ts';
import { refund } from '../app/refund.ts';
import { paymentsManifest } from '../index.ts';
import { unitOfWorkFor } from '../../../platform/bus/unit-of-work.ts';
import { systemClock } from '../../../platform/modules/clock.ts';

describe.each(engines)('payment accounts (event-sourced) on %s', (engine) => {
  let t: TestApp;
  let payments: ContractApi<typeof paymentsContract>;
  let store: ModuleStore<PaymentsTables>;
  const metrics = async () => (await fetch(`${t.internalUrl}/metrics`)).text();

  beforeAll(async () => {
    t = await bootApp({
      engine,
      modules: ['payments'],
      env: { SNAPSHOT_EVERY: '3', PAYMENT_TIMEOUT_MS: '100', PAYMENT_SLOW_MS: '500', PAYMENT_MAX_ATTEMPTS: '2', PAYMENT_BREAKER_THRESHOLD: '3', PAYMENT_BREAKER_HALF_OPEN_MS: '3000' },
    });
    payments = t.app.contract(paymentsContract);
    store = t.app.stores.get('payments') as ModuleStore<PaymentsTables>;
  });
  afterAll(() => t?.close());

  const chargeVia = (orderId: string, customerId: string, amountMinor: number, paymentMethod: 'tok_ok' | 'tok_decline' | 'tok_fail' | 'tok_slow' = 'tok_ok') =>
    payments.charge({ orderId, customerId, amountMinor, currency: 'EUR', paymentMethod });

  it('keeps an append-only stream, snapshots every N events, and replays to the same state', async () => {
    for (let i = 1; i <= 7; i++) await chargeVia(`snap-${i}`, 'snapper', 100 * i);
    await payments.refund({ orderId: 'snap-2', customerId: 'snapper' });
    const events = await store.db.select().from(store.tables.accountEvents).where(eq(store.tables.accountEvents.accountId, 'snapper')).orderBy(store.tables.accountEvents.version);
    expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(events.map((e) => e.type)).toEqual(['AccountOpened', ...Array(7).fill('PaymentCaptured'), 'PaymentRefunded']);
    const snaps = await store.db.select().from(store.tables.snapshots).where(eq(store.tables.snapshots.accountId, 'snapper'));
    expect(snaps.map((s) => s.version).sort()).toEqual([3, 6, 9]);
    const withSnapshots = await eventStore(store, 3).load(store.db, 'snapper');
    expect(withSnapshots.replayed).toBe(0);
    // What the snapshots hold is the fold of every event from the first.
    expect(withSnapshots.state).toEqual(events.reduce((s, e) => apply(s, e.data), emptyAccount('snapper')));
    // The summary stays the same size however many payments the account took.
    expect(withSnapshots.state).toEqual({ customerId: 'snapper', opened: true, capturedMinor: 2800, refundedMinor: 200, payments: 7 });
    // snap-2's capture is older than the latest snapshot: its payment is folded from its own events.
    expect((await eventStore(store, 3).load(store.db, 'snapper', { orderId: 'snap-2' })).payment).toMatchObject({ status: 'refunded', amountMinor: 200 });
    expect((await eventStore(store, 3).load(store.db, 'snapper', { orderId: 'snap-7' })).payment).toMatchObject({ status: 'captured', amountMinor: 700 });
    expect((await eventStore(store, 3).load(store.db, 'snapper', { orderId: 'never' })).payment).toBeUndefined();
    expect(await payments.getAccount({ customerId: 'snapper' })).toMatchObject({ capturedMinor: 2800, refundedMinor: 200, netMinor: 2600, version: 9 });
    // One event past the latest snapshot: a load for an order (one statement) folds the snapshot,
    // the event after it, and the order's own events; the new order's event, read by both parts
    // of that statement, counts once.
    await chargeVia('snap-8', 'snapper', 800);
    const forNew = await eventStore(store, 3).load(store.db, 'snapper', { orderId: 'snap-8' });
    expect(forNew).toMatchObject({ version: 10, replayed: 1, payment: { status: 'captured', amountMinor: 800 } });
    expect(forNew.state).toMatchObject({ capturedMinor: 3600, refundedMinor: 200, payments: 8 });
    const forOld = await eventStore(store, 3).load(store.db, 'snapper', { orderId: 'snap-2' });
    expect(forOld).toMatchObject({ version: 10, replayed: 1, payment: { status: 'refunded', amountMinor: 200 } });
    expect(forOld.state).toEqual(forNew.state);
  });

  it('answers the balance as of a past moment', async () => {
    await chargeVia('time-1', 'traveller', 500);
    const between = new Date();
    await eventually(() => Date.now() > between.getTime() + 5, 'time to pass');
    await chargeVia('time-2', 'traveller', 700);
    expect(await payments.getAccount({ customerId: 'traveller', at: between.toISOString() })).toMatchObject({ capturedMinor: 500, netMinor: 500 });
    expect(await payments.getAccount({ customerId: 'traveller' })).toMatchObject({ capturedMinor: 1200 });
    expect(await payments.getAccount({ customerId: 'traveller', at: '2000-01-01T00:00:00Z' })).toMatchObject({ capturedMinor: 0, version: 0 });
  });

  it('charges once however many concurrent calls arrive for one order', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => chargeVia('once-1', 'eager', 999)));
    expect(new Set(results.map((r) => r.providerRef)).size).toBe(1);
    const captured = await store.db.select().from(store.tables.accountEvents).where(eq(store.tables.accountEvents.type, 'PaymentCaptured'));
    expect(captured.filter((e) => (e.data as { orderId: string }).orderId === 'once-1')).toHaveLength(1);
  });

  it('records every one of many concurrent charges to one account: an append that lost its version to another tries again', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => chargeVia(`crowd-${i}`, 'crowded', 100 + i)));
    expect(results.every((r) => r.status === 'captured')).toBe(true);
    const stream = await store.db.select().from(store.tables.accountEvents).where(eq(store.tables.accountEvents.accountId, 'crowded'));
    // Opened, then the twelve captures, with no gap and no version twice.
    expect(stream.map((e) => e.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(await payments.getAccount({ customerId: 'crowded' })).toMatchObject({ capturedMinor: 12 * 100 + 66, version: 13 });
  });

  it('tells a version someone else appended from any other refusal, on either engine', async () => {
    await chargeVia('refused-1', 'refuser', 100);
    const [first] = await store.db.select().from(store.tables.accountEvents).where(eq(store.tables.accountEvents.accountId, 'refuser')).limit(1);
    const refused = (write: (tx: typeof store.db) => Promise<unknown>) => store.transaction(write).then(() => undefined, (err: unknown) => err);
    const refusal = await refused((tx) => tx.insert(store.tables.accountEvents).values({ accountId: first!.accountId, version: first!.version, type: first!.type, data: first!.data, occurredAt: new Date() }));
    expect(isStreamConflict(refusal)).toBe(true);
    // Another unique index refusing a row is not a lost version.
    const summary = { accountId: 'summed', version: 1, state: emptyAccount('summed'), lastEventAt: new Date() };
    await store.transaction((tx) => tx.insert(store.tables.snapshots).values(summary));
    const duplicate = await refused((tx) => tx.insert(store.tables.snapshots).values(summary));
    expect(duplicate).toBeInstanceOf(Error);
    expect(isStreamConflict(duplicate)).toBe(false);
  });

  it('records a decline and refuses to charge a voided order', async () => {
    await expect(chargeVia('dec-1', 'decliner', 100, 'tok_decline')).rejects.toBeInstanceOf(PaymentDeclined);
    await expect(chargeVia('dec-1', 'decliner', 100, 'tok_ok')).rejects.toBeInstanceOf(PaymentDeclined);
    expect(await payments.refund({ orderId: 'void-1', customerId: 'decliner' })).toEqual({ orderId: 'void-1', status: 'voided' });
    await expect(chargeVia('void-1', 'decliner', 100)).rejects.toBeInstanceOf(PaymentClosed);
    expect(await payments.getAccount({ customerId: 'decliner' })).toMatchObject({ capturedMinor: 0, netMinor: 0 });
  });

  it('gives the money back at the provider when a charge lands after its order was voided', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // The refund must overtake a charge already at the provider, not one still reading the account.
    let atProvider!: () => void;
    const reachedProvider = new Promise<void>((r) => (atProvider = r));
    const refunded: string[] = [];
    const provider = {
      routeOf: () => 'test',
      async charge() {
        atProvider();
        await gate;
        return { providerRef: 'ref-late' };
      },
      async refund(ref: string) {
        refunded.push(ref);
      },
    };
    const deps = { store, unitOfWork: unitOfWorkFor(store, paymentsManifest.publishes, () => {}), events: eventStore(store, 3), provider, clock: systemClock };
    const slow = charge(deps, { orderId: 'late-1', customerId: 'slowpoke', amountMinor: 500, currency: 'EUR', paymentMethod: 'tok_ok' });
    await reachedProvider;
    expect(await refund(deps, 'late-1', 'slowpoke')).toEqual({ orderId: 'late-1', status: 'voided' });
    release();
    await expect(slow).rejects.toBeInstanceOf(PaymentClosed);
    expect(refunded).toEqual(['ref-late']);
    expect(await payments.getAccount({ customerId: 'slowpoke' })).toMatchObject({ capturedMinor: 0, netMinor: 0 });
  });

  it('opens the circuit of a failing payment route, fails fast there, leaves other routes alone, and probes it again half-open', async () => {
    // Two failed attempts per charge (error, then timeout) against a threshold of three: the
    // tok_fail route opens after its second charge.
    await expect(chargeVia('cb-1', 'breaker', 100, 'tok_fail')).rejects.toBeInstanceOf(PaymentUnavailable);
    await expect(chargeVia('cb-2', 'breaker', 100, 'tok_fail')).rejects.toBeInstanceOf(PaymentUnavailable);
    expect(await metrics()).toMatch(/circuit_breaker_state\{dependency="payment-provider",partition="tok_fail"[^}]*\} 1/);
    const open = await chargeVia('cb-3', 'breaker', 100, 'tok_fail').catch((e) => e);
    expect(open).toBeInstanceOf(PaymentUnavailable);
    expect(open.message).toContain('circuit open');
    expect(open.details).toEqual({ retryLater: true });
    // Another route is not refused because that one failed.
    expect((await chargeVia('cb-4', 'breaker', 100, 'tok_ok')).status).toBe('captured');
    // The slow route fails on its own timeouts and opens its own circuit.
    await expect(chargeVia('cb-5', 'breaker', 100, 'tok_slow')).rejects.toBeInstanceOf(PaymentUnavailable);
    await expect(chargeVia('cb-6', 'breaker', 100, 'tok_slow')).rejects.toBeInstanceOf(PaymentUnavailable);
    const m = await metrics();
    expect(m).toMatch(/circuit_breaker_state\{dependency="payment-provider",partition="tok_slow"[^}]*\} 1/);
    expect(m).toMatch(/circuit_breaker_state\{dependency="payment-provider",partition="tok_ok"[^}]*\} 0/);
    // After the half-open delay the failing route lets one probe through again (which fails, and opens it again).
    await eventually(async () => {
      await chargeVia('cb-7', 'breaker', 100, 'tok_fail').catch(() => undefined);
      return /circuit_breaker_transitions_total\{dependency="payment-provider",partition="tok_fail",to="halfopen"/.test(await metrics());
    }, 'a half-open probe on the failing route', 15_000, 200);
  });
});
