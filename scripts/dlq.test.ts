// `npm run dlq` against a booted app: the operator's view of dead letters and their replay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { eq } from 'drizzle-orm';
import { bootApp, type TestApp } from '../test/support/boot.ts';
import type { ModuleStore } from '../src/platform/data/module-store.ts';
import { busFixtures } from '../test/support/fixture-modules.ts';
import { client } from '../test/support/http.ts';
import { eventually } from '../test/support/eventually.ts';
import { freePort } from '../test/support/processes.ts';
import { TEST_JWT_SECRET } from '../test/support/keys.ts';

const root = resolve(import.meta.dirname, '..');

function dlq(args: string[], appUrl: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['scripts/dlq.ts', ...args], { cwd: root, env: { ...process.env, APP_URL: appUrl, JWT_SECRET: TEST_JWT_SECRET } }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('npm run dlq', () => {
  let t: TestApp;
  let api: ReturnType<typeof client>;
  /** The internal listener, where the admin routes are. */
  let admin: ReturnType<typeof client>;
  let poisonId: string;
  let flakyId: string;

  const effects = async (entryId: string) => {
    const tally = t.app.stores.get('tally')! as ModuleStore<any>;
    return tally.db.select().from(tally.tables.effects).where(eq(tally.tables.effects.entryId, entryId));
  };
  const pending = async () => (await admin.get('/admin/dead-letters?module=tally')).body.items as { seq: number; envelope: { payload: { entryId: string } } }[];

  beforeAll(async () => {
    t = await bootApp({ engine: 'sqlite', fixtures: busFixtures(), env: { BUS_MAX_ATTEMPTS: '2', BUS_RETRY_DELAY_MS: '5', BUS_POLL_MS: '100' } });
    api = client(t.baseUrl, await t.token('ops', ['admin']));
    admin = client(t.internalUrl, await t.token('ops', ['admin']));
    // 13 always fails; 8 fails its first three attempts, so it outlasts a budget of two but not a replay.
    poisonId = (await api.post('/api/v1/ledger', { amount: 13 })).body.id;
    flakyId = (await api.post('/api/v1/ledger', { amount: 8 })).body.id;
    await eventually(async () => (await pending()).length === 2, 'two dead letters');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists the dead letters of the running app with their seq, event, attempts and reason', async () => {
    const { code, stdout } = await dlq(['list'], t.internalUrl);
    expect(code).toBe(0);
    // Which of the two was dead-lettered first (the lower seq) depends on their retries' timing.
    const letters = await pending();
    const poison = letters.find((d) => d.envelope.payload.entryId === poisonId);
    const flaky = letters.find((d) => d.envelope.payload.entryId === flakyId);
    expect(stdout).toMatch(/^MODULE\s+SEQ\s+EVENT\s+EVENT ID\s+ATTEMPTS\s+DEAD-LETTERED AT\s+REASON$/m);
    expect(stdout).toMatch(new RegExp(`^tally\\s+${poison!.seq}\\s+EntryRecorded\\.v1\\s+\\S+\\s+2\\s+\\S+\\s+handler failed 2 time\\(s\\): thirteen is unlucky$`, 'm'));
    expect(stdout).toMatch(new RegExp(`^tally\\s+${flaky!.seq}\\s+EntryRecorded\\.v1\\s+.*longer failure 2$`, 'm'));
    expect(stdout).toContain('2 dead letter(s).');
  });

  it('filters the list by module and says so when there are none', async () => {
    const { code, stdout } = await dlq(['list', '--module', 'ledger'], t.internalUrl);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('No dead letters for ledger.');
  });

  it('replays one dead letter by seq, and its effect lands once', async () => {
    const flaky = (await pending()).find((d) => d.envelope.payload.entryId === flakyId)!;
    const { code, stdout } = await dlq(['replay', 'tally', String(flaky.seq)], t.internalUrl);
    expect(code).toBe(0);
    expect(stdout).toContain('Replayed 1 dead letter(s) of tally.');
    await eventually(async () => (await effects(flakyId)).length === 1, 'replayed event handled');
    expect((await pending()).map((d) => d.envelope.payload.entryId)).toEqual([poisonId]);
  });

  it('replays all dead letters of a module with --all; one that fails again comes back', async () => {
    const before = (await pending())[0]!;
    const { code, stdout } = await dlq(['replay', 'tally', '--all'], t.internalUrl);
    expect(code).toBe(0);
    expect(stdout).toContain('Replayed 1 dead letter(s) of tally.');
    await eventually(async () => (await pending()).some((d) => d.envelope.payload.entryId === poisonId), 'dead-lettered again');
    expect(await effects(poisonId)).toHaveLength(0);
    expect((await pending())[0]!.seq).toBe(before.seq);
  });

  it('fails plainly when asked to replay a seq that is not pending', async () => {
    const { code, stdout } = await dlq(['replay', 'tally', '999999'], t.internalUrl);
    expect(code).toBe(1);
    expect(stdout).toContain('Nothing replayed: no pending dead letter 999999 of tally');
  });

  it('rejects a replay without a seq or --all, with the usage', async () => {
    const { code, stderr } = await dlq(['replay', 'tally'], t.internalUrl);
    expect(code).toBe(2);
    expect(stderr).toContain('replay tally needs a seq');
    expect(stderr).toContain('npm run dlq -- list [--module <module>]');
  });

  it('exits non-zero with a plain message when the app is unreachable', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const { code, stdout, stderr } = await dlq(['list'], nobody);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe(`cannot reach the app at ${nobody} (ECONNREFUSED); is it running? Set APP_URL or PORT to point at it.`);
  });
});
