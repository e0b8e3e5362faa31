// A deployable exporting spans to a collector that is down still stops cleanly: the requests it
// served are done, so SIGTERM ends in 0, and the spans it could not deliver are reported in its
// log as a warning, not as a stop that failed. The exporter would retry the refused collector for
// its whole OTEL_EXPORTER_OTLP_TIMEOUT (10 s by default); the stop gives it 4 s, inside the 5 s its
// guard leaves after the drain. (A proxy worker, with the exporter's own timeout shorter:
// proxy/test/collector-down.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startTs, waitReady, type Child } from '../support/processes.ts';
import { testKeysEnv } from '../support/keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'collector-down-'));
let child: Child | undefined;
afterAll(async () => {
  if (child && child.proc.exitCode === null && child.proc.signalCode === null) {
    child.proc.kill('SIGKILL');
    await child.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('the monolith, its collector down', () => {
  it('exits 0 on SIGTERM and reports the spans it could not export, within its own bound', async () => {
    const collector = await freePort(); // nothing listens there: every export is refused
    const port = await freePort();
    child = startTs('src/main.ts', {
      ...testKeysEnv,
      DATA_DIR: dir,
      HOST: '127.0.0.1',
      PORT: String(port),
      INTERNAL_PORT: String(await freePort()),
      BUS: 'inprocess',
      DATABASE_URL: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector}`,
      // No export on the processor's timer: the request's span is still buffered at the stop.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
    });
    const base = `http://127.0.0.1:${port}`;
    await waitReady(base, child);
    // A request the app answers (401: no token) is a span of its own.
    expect((await fetch(`${base}/api/v1/products`)).status).toBe(401);

    child.proc.kill('SIGTERM');
    const exit = await child.exited;
    const out = child.output();
    expect(exit, out).toEqual({ code: 0, signal: null });
    const warning = out.split('\n').find((l) => l.includes('spans still buffered at the stop could not be exported'));
    expect(warning, out).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ level: 'warn', err: { message: 'the collector did not take the buffered spans within 4000 ms' } });
    expect(out).not.toContain('shutdown failed');
  }, 120_000);
});
