import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startTs, waitReady } from '../../../test/support/processes.ts';
import { eventually } from '../../../test/support/eventually.ts';
import { mintToken } from '../auth/jwt.ts';
import { TEST_JWT_SECRET, testKeysEnv } from '../../../test/support/keys.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('graceful shutdown', () => {
  // Two process starts: generous on a loaded two-core machine.
  it('finishes in-flight requests after SIGTERM, refuses new connections, and exits 0', { timeout: 240_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drain-'));
    dirs.push(dir);
    const port = await freePort();
    const internalPort = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const internal = `http://127.0.0.1:${internalPort}`;
    const env = { ...testKeysEnv, PORT: String(port), INTERNAL_PORT: String(internalPort), HOST: '127.0.0.1', DATA_DIR: dir, SEED: 'false' };
    const app = startTs('src/main.ts', env);
    await waitReady(base, app);
    const token = await mintToken({ sub: 'ops', scopes: ['admin'], secret: TEST_JWT_SECRET });

    // Three requests are in flight: their bodies are only half sent when the signal arrives.
    const body = (i: number) => JSON.stringify({ sku: `DRAIN-${i}`, name: `Drain ${i}`, priceMinor: 100, currency: 'EUR' });
    const inFlight = [1, 2, 3].map((i) => {
      const payload = Buffer.from(body(i));
      let resolveStatus!: (s: { status: number; text: string }) => void;
      const done = new Promise<{ status: number; text: string }>((r) => (resolveStatus = r));
      const req = request(`${base}/api/v1/products`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': payload.length },
      }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolveStatus({ status: res.statusCode!, text }));
      });
      req.write(payload.subarray(0, 10));
      return { req, rest: payload.subarray(10), done };
    });
    // The signal must find all three requests inside the server (plus this /metrics request).
    await eventually(async () => {
      const text = await (await fetch(`${internal}/metrics`)).text();
      return Number(text.match(/^http_requests_in_flight\{[^}]*\} (\d+)/m)?.[1] ?? 0) >= 4;
    }, 'three requests in flight');

    app.proc.kill('SIGTERM');
    // Readiness flips to false / the listener closes: new connections are refused.
    await eventually(async () => {
      try {
        await fetch(`${base}/health/live`, { headers: { connection: 'close' } });
        return false;
      } catch {
        return true;
      }
    }, 'new connections refused');

    for (const f of inFlight) f.req.end(f.rest);
    const results = await Promise.all(inFlight.map((f) => f.done));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201]);

    const exit = await app.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(app.output()).toContain('draining');

    // The writes that were in flight are durable: a restarted app serves them.
    const again = startTs('src/main.ts', env);
    await waitReady(base, again);
    const res = await fetch(`${base}/api/v1/products?q=drain`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(3);
    again.proc.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);
  });
});
