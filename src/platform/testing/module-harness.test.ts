// The module harness itself, on the fixture modules: a module booted alone publishes what its
// use cases publish, takes events put into its inbox (once, however often delivered), sees the
// test's clock in its jobs, and calls its neighbours only through fakes held to their contracts.
import { afterEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import ledger from '../../../test/fixtures/modules/ledger/module.ts';
import tally from '../../../test/fixtures/modules/tally/module.ts';
import counter from '../../../test/fixtures/modules/counter/module.ts';
import { EntryRecorded } from '../../../test/fixtures/modules/ledger/index.ts';
import { warehouseContract } from '../../../test/fixtures/modules/warehouse/index.ts';
import { bootModule, type ModuleHarness } from './module-harness.ts';
import { fake } from './contract-fake.ts';
import { manualClock } from './manual-clock.ts';

let m: ModuleHarness | undefined;
afterEach(async () => {
  await m?.close();
  m = undefined;
});

describe('the module harness', () => {
  it('waits for the event a use case publishes, and sees none for one rolled back', async () => {
    m = await bootModule(ledger);
    const h = m;
    const event = await h.scenario().stimulate(() => h.api('ann').post('/api/v1/ledger', { amount: 5, id: 'e-1' })).andWaitForEvent(EntryRecorded);
    expect(event).toEqual({ entryId: 'e-1', amount: 5 });
    expect((await h.api('ann').post('/api/v1/ledger', { amount: 6, id: 'e-2', rollback: true })).status).toBe(409);
    expect(await h.published(EntryRecorded)).toEqual([{ entryId: 'e-1', amount: 5 }]);
    await expect(h.scenario().stimulate(() => undefined).andWaitForEvent(EntryRecorded, () => true, { within: 300 })).rejects.toThrow(/waited 300 ms for EntryRecorded.v1/);
  });

  it('puts events into the inbox, and a redelivered one takes effect once', async () => {
    m = await bootModule(tally);
    const h = m;
    const totals = async () => (await h.store.db.select().from(h.store.tables.totals as never).where(eq((h.store.tables.totals as never as { id: never }).id, 'all' as never)))[0] as { count: number; sum: number } | undefined;
    const envelope = await h.publish(EntryRecorded, { entryId: 'x', amount: 4 });
    await h.deliver(envelope);
    expect(await h.state(totals)).toEqual({ id: 'all', count: 1, sum: 4 });
    await expect(h.publish(EntryRecorded, { entryId: 'y', amount: 'four' } as never)).rejects.toThrow();
  });

  it('moves the module’s clock and runs its jobs, as much later as the test says', async () => {
    const clock = manualClock(new Date('2030-01-01T00:00:00Z'));
    m = await bootModule(tally, { clock });
    await m.advance(90 * 60_000);
    expect((await m.api('ann').get('/api/v1/tally/stamp')).body).toEqual({ stamped: '2030-01-01T01:30:00.000Z' });
  });

  it('binds fakes like the real contract: validated, with typed errors, and missing neighbours fail loudly', async () => {
    m = await bootModule(counter, {
      fakes: [
        fake(warehouseContract, {
          level: async ({ sku }) => ({ sku, reserved: 2 }),
          // Answers outside the contract's output schema: the module under test must not see it as valid.
          reserve: async () => ({ orderId: 'o', reserved: 'many' }) as never,
        }),
      ],
    });
    const api = m.api('ann');
    expect((await api.get('/api/v1/counter/levels/TEA')).body).toEqual({ sku: 'TEA', reserved: 2 });
    const refused = await api.post('/api/v1/counter/orders', { orderId: 'o-1', sku: 'TEA' });
    expect(refused.status).toBe(500);
    expect(refused.body.code).toBe('ContractViolation');
    // An operation the fake does not answer is a ContractViolation that says so, not a silent default.
    const whoami = await api.get('/api/v1/counter/whoami');
    expect(whoami.status).toBe(500);
  });
});
