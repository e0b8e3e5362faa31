// Crash safety: the monolith is killed with SIGKILL while sagas are in flight, restarted on
// the same store, and every saga resumes from its persisted step to a decided order — with no
// double reservation, no double charge, and every invariant intact.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startTs, waitReady, type Child } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { mintToken } from '../../src/platform/auth/jwt.ts';
import { loadConfig } from '../../src/platform/config/env.ts';
import { TEST_JWT_SECRET, testKeysEnv } from '../support/keys.ts';
import { openModuleStore } from '../../src/platform/data/open-store.ts';
import { system } from '../../src/composition-root.ts';
import { loadAll } from '../../src/platform/modules/system.ts';
import { actors } from './commerce-world.ts';
import { checkInvariants, type Stores } from './invariants.ts';

const children: Child[] = [];
const dir = mkdtempSync(join(tmpdir(), 'saga-crash-'));
afterAll(() => {
  for (const c of children) c.proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('order sagas under kill -9', () => {
  it('resume after every crash and end consistent', { timeout: 180_000 }, async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = {
      ...testKeysEnv, PORT: String(port), INTERNAL_PORT: String(await freePort()), HOST: '127.0.0.1', DATA_DIR: dir, SEED: 'false', LOG_LEVEL: 'warn',
      SAGA_LEASE_MS: '500', SAGA_POLL_MS: '50', SAGA_RETRY_DELAY_MS: '50', BUS_POLL_MS: '100',
      PAYMENT_TIMEOUT_MS: '200', PAYMENT_SLOW_MS: '800', PAYMENT_BREAKER_THRESHOLD: '1000',
    };
    const start = async () => {
      const c = startTs('src/main.ts', env);
      children.push(c);
      await waitReady(base, c);
      return c;
    };
    let app = await start();
    const token = (sub: string, scopes: string[] = []) => mintToken({ sub, scopes, secret: TEST_JWT_SECRET });
    const a = await actors({ baseUrl: base, token });
    const scarce = await a.product(700, 15);
    const plenty = await a.product(150, 5_000);
    const customers = await Promise.all(Array.from({ length: 6 }, (_, i) => a.customer(`crash-${i}`)));
    const tokens = ['tok_ok', 'tok_ok', 'tok_slow', 'tok_decline', 'tok_ok', 'tok_fail'];

    let placed = 0;
    const place = async (round: number, n: number) => {
      await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const c = customers[i % customers.length]!;
          const items = i % 2 ? [{ sku: scarce, quantity: 1 }, { sku: plenty, quantity: 2 }] : [{ sku: plenty, quantity: 1 }];
          const r = await c.api.post('/api/v1/orders', { items, paymentMethod: tokens[i % tokens.length] }, { 'idempotency-key': `r${round}-${i}` }).catch(() => undefined);
          if (r?.status === 202) placed++;
        }),
      );
    };

    // Three rounds: place a burst, kill the process while its sagas run, restart.
    for (const [round, delayMs] of [[1, 120], [2, 350], [3, 60]] as const) {
      await place(round, 30);
      await new Promise((r) => setTimeout(r, delayMs)); // lets some sagas get partway; the kill lands mid-flight
      app.proc.kill('SIGKILL');
      expect((await app.exited).signal).toBe('SIGKILL');
      app = await start();
    }

    // Everything placed and acknowledged ends decided; nothing half-done remains.
    const config = loadConfig({ ...testKeysEnv, DATA_DIR: dir, LOG_LEVEL: 'silent' });
    const defs = await loadAll(system, ['orders', 'inventory', 'payments']);
    const [orders, inventory, payments] = await Promise.all(defs.map((d) => openModuleStore(d.schema, config, 'test')));
    const stores = { orders, inventory, payments } as Stores;
    try {
      await eventually(async () => {
        const sagas = (await stores.orders.db.select().from(stores.orders.tables.sagas)) as any[];
        const history = (await stores.orders.db.select().from(stores.orders.tables.history)) as any[];
        return sagas.length >= placed && sagas.every((s) => s.done) && history.length === sagas.length && history.every((h) => h.status !== 'PENDING');
      }, 'all sagas resumed and finished', 60_000, 100);
      const summary = await checkInvariants(stores, new Map([[scarce, 15], [plenty, 5_000]]));
      expect(summary.orders).toBeGreaterThanOrEqual(placed);
      expect(summary.confirmed).toBeGreaterThan(0);
    } finally {
      await Promise.all([orders!.close(), inventory!.close(), payments!.close()]);
    }
    app.proc.kill('SIGTERM');
    expect((await app.exited).code).toBe(0);
  });
});
