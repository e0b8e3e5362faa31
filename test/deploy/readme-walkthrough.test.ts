// The README's Postgres walkthrough, as written, on a database of its own: `npm run migrate`, then
// the app started with the demo data step (`SEED=true npm start`), and a first order that is
// confirmed because the products and stock it needs are there.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { createTestDatabase } from '../support/databases.ts';
import { eventually } from '../support/eventually.ts';
import { freePort, repoRoot, startTs, waitReady, type Child } from '../support/processes.ts';
import { TEST_JWT_SECRET, testKeysEnv } from '../support/keys.ts';
import { mintToken } from '../../src/platform/auth/jwt.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'readme-pg-'));
let app: Child | undefined;
let drop: (() => Promise<void>) | undefined;
afterAll(async () => {
  app?.proc.kill('SIGKILL');
  if (app) await app.exited;
  await drop?.();
  rmSync(dir, { recursive: true, force: true });
});

it('migrates a fresh Postgres database, starts with the demo data and confirms a first order', async () => {
  const db = await createTestDatabase();
  drop = db.drop;
  const env = { ...process.env, ...testKeysEnv, DATABASE_URL: db.url, DATA_DIR: dir, TOPOLOGY_FILE: join(dir, 'none.json') };
  const migrated = await run(process.execPath, ['scripts/migrate.ts'], { cwd: repoRoot, env });
  expect(migrated.stdout).toMatch(/done/);
  const port = await freePort();
  app = startTs('src/main.ts', { ...testKeysEnv, DATABASE_URL: db.url, DATA_DIR: dir, TOPOLOGY_FILE: join(dir, 'none.json'), SEED: 'true', PORT: String(port), INTERNAL_PORT: String(await freePort()), HOST: '127.0.0.1' });
  const base = `http://127.0.0.1:${port}`;
  await waitReady(base, app);
  const auth = { authorization: `Bearer ${await mintToken({ sub: 'alice', secret: TEST_JWT_SECRET })}`, 'content-type': 'application/json' };
  const placed = await fetch(`${base}/api/v1/orders`, { method: 'POST', headers: { ...auth, 'idempotency-key': randomUUID() }, body: JSON.stringify({ items: [{ sku: 'MUG-STONE', quantity: 2 }] }) });
  expect(placed.status, await placed.clone().text()).toBe(202);
  const { id } = (await placed.json()) as { id: string };
  let order: { status: string; reason?: string } = { status: 'PENDING' };
  await eventually(async () => {
    order = (await (await fetch(`${base}/api/v1/orders/${id}`, { headers: auth })).json()) as typeof order;
    return order.status !== 'PENDING';
  }, 'order settled', 30_000, 100);
  expect(order).toMatchObject({ status: 'CONFIRMED' });
});
