// Liveness never depends on anything; readiness says whether to send traffic here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { bootApp, type TestApp } from '../../../test/support/boot.ts';

describe('health probes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootApp({ engine: 'sqlite', modules: ['catalog'] });
  });
  afterAll(() => t?.close());

  const probe = async (path: string) => {
    const r = await fetch(`${t.baseUrl}${path}`);
    return { status: r.status, body: (await r.json()) as { status: string; checks?: Record<string, string> } };
  };

  it('is not ready while a migration is missing, and says which fix applies', async () => {
    const raw = new Database(join(t.storeEnv.DATA_DIR!, 'catalog.sqlite'));
    const rows = raw.prepare('SELECT * FROM __drizzle_migrations').all() as Record<string, unknown>[];
    raw.prepare('DELETE FROM __drizzle_migrations').run();
    const notReady = await probe('/health/ready');
    expect(notReady.status).toBe(503);
    expect(notReady.body.checks?.['store:catalog']).toMatch(/migration\(s\) not applied; run npm run migrate/);
    expect((await probe('/health/live')).status).toBe(200);
    const insert = raw.prepare(`INSERT INTO __drizzle_migrations (${Object.keys(rows[0]!).join(', ')}) VALUES (${Object.keys(rows[0]!).map(() => '?').join(', ')})`);
    for (const row of rows) insert.run(...Object.values(row));
    raw.close();
    expect((await probe('/health/ready')).body).toEqual({ status: 'ok', checks: { 'bus:inprocess': 'ok', 'store:catalog': 'ok' } });
  });

  it('stops being ready while draining, and stays live and started', async () => {
    t.app.health.draining = true;
    try {
      const r = await probe('/health/ready');
      expect(r.status).toBe(503);
      expect(r.body.checks?.shutdown).toBe('draining');
      expect((await probe('/health/live')).status).toBe(200);
      expect((await probe('/health/started')).status).toBe(200);
    } finally {
      t.app.health.draining = false;
    }
  });
});
