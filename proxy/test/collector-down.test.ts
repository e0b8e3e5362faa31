// A proxy worker exporting spans to a collector that is down still stops cleanly on SIGTERM: it
// reports the spans it could not deliver and ends in 0, where the failed export used to escape its
// stop as an unhandled rejection. The primary logs how each worker ended its stop. The exporter's
// own timeout is 1 s here, so the refusal itself is what is reported (the stop's 4 s bound, and
// the monolith: test/observability/collector-down.test.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/processes.ts';
import { SECRET, request, startUpstream, tempConfig, twoSides, type Upstream } from './helpers.ts';
import { spawnProxy, type ProxyProcess } from './proxy-process.ts';

let old: Upstream | undefined;
let fresh: Upstream | undefined;
let proxy: ProxyProcess | undefined;
afterAll(async () => {
  await proxy?.stop();
  await old?.close();
  await fresh?.close();
});

describe('a proxy worker, its collector down', () => {
  it('exits 0 on SIGTERM and reports the spans it could not export', async () => {
    old = await startUpstream('monolith');
    fresh = await startUpstream('orders');
    const collector = await freePort(); // nothing listens there: every export is refused
    proxy = await spawnProxy({
      env: {
        PROXY_CONFIG: tempConfig(twoSides(old, fresh)),
        PROXY_WORKERS: '1',
        JWT_SECRET: SECRET,
        LOG_LEVEL: 'info',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector}`,
        // No export on the processor's timer: the request's spans are still buffered at the stop.
        OTEL_BSP_SCHEDULE_DELAY: '600000',
        OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
      },
    });
    expect((await request(proxy.base, '/api/v1/orders/1')).status).toBe(200);

    const code = await proxy.stop();
    const out = proxy.output();
    expect(code, out).toBe(0);
    const warning = out.split('\n').find((l) => l.includes('spans still buffered at the stop could not be exported'));
    expect(warning, out).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ level: 40, err: { code: 'ECONNREFUSED' } });
    expect(out).not.toMatch(/Unhandled|triggerUncaughtException/);
    const stopped = out.split('\n').filter((l) => l.includes('"msg":"worker stopped'));
    expect(stopped.map((l) => JSON.parse(l) as { code: number; signal: string | null }), out).toEqual([expect.objectContaining({ code: 0, signal: null })]);
  }, 120_000);
});
