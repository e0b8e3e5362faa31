// With warehouse extracted, the monolith (counter) and the warehouse
// service are real processes on BullMQ. Contract calls go over HTTP both ways, events cross both
// ways through outbox and inbox, calls spread over two service instances and skip a dead one, a
// SIGKILL on either side loses nothing, and a dead service makes
// callers fail fast behind an open breaker that closes through half-open when it is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type RunningSystem } from '../support/topologies.ts';
import { client } from '../support/http.ts';
import { eventually } from '../support/eventually.ts';
import { fixtureDeployables } from './fixtures.ts';

// Tests that kill and restart processes: a start on two busy cores can take tens of seconds.
const RESTART_TIMEOUT = 240_000;
const SETTLE_MS = 60_000;

const env = {
  LOG_LEVEL: 'warn',
  REMOTE_TIMEOUT_MS: '1000',
  REMOTE_RETRIES: '1',
  REMOTE_BREAKER_FAILURES: '3',
  REMOTE_BREAKER_HALF_OPEN_MS: '300',
  // A job held by a SIGKILLed worker comes back after its lock expires: keep that short here.
  BUS_LOCK_MS: '2000',
};

describe('warehouse extracted: the monolith and the service as separate processes', () => {
  let sys: RunningSystem;
  let monolith: ReturnType<typeof client>;
  let service: ReturnType<typeof client>;

  beforeAll(async () => {
    sys = await startSystem({ name: 'warehouse extracted', extracted: ['warehouse'] }, { deployables: fixtureDeployables, env, proxy: false, instances: 2 });
    const token = await sys.token('alice', ['admin']);
    monolith = client(sys.monolithUrl, token);
    service = client(sys.serviceUrls.warehouse![0]!, token);
  }, 120_000);
  afterAll(() => sys?.close(), 60_000);

  const order = (orderId: string) => monolith.post('/api/v1/counter/orders', { orderId, sku: 'TEA' });
  const confirmedInMonolith = (orderId: string) => monolith.get(`/api/v1/counter/confirmed/${orderId}`).then((r) => r.status === 200);
  const notedInService = (orderId: string) => service.get(`/api/v1/warehouse/noted/${orderId}`).then((r) => r.status === 200);
  const metric = async (url: string, line: RegExp) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const m = text.split('\n').find((l) => line.test(l));
    return m ? Number(m.split(' ').pop()) : undefined;
  };
  /** Contract calls an instance answered: summed over its internal endpoint's request counters. */
  const internalCalls = async (url: string) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const lines = text.split('\n').filter((l) => /^http_requests_total\{(?=.*route="\/internal\/contracts\/:module\/:operation")(?=.*status="200")/.test(l));
    return lines.reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  };
  const killServices = () => Promise.all([sys.kill('warehouse', 0), sys.kill('warehouse', 1)]);
  const restartServices = () => Promise.all([sys.restart('warehouse', 0), sys.restart('warehouse', 1)]);

  it('calls the extracted module over HTTP and events cross both ways', async () => {
    const r = await order('o-1');
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ orderId: 'o-1', reserved: 1 });
    // StockReserved: published by the service, handled in the monolith.
    await eventually(() => confirmedInMonolith('o-1'), 'StockReserved to reach counter in the monolith');
    // OrderNoted: published by the monolith, handled in the service.
    await eventually(() => notedInService('o-1'), 'OrderNoted to reach warehouse in the service');
  });

  it('spreads contract calls over the service’s instances', async () => {
    const before = await Promise.all(sys.serviceInternalUrls.warehouse!.map(internalCalls));
    for (let i = 0; i < 8; i++) expect((await monolith.get('/api/v1/counter/levels/TEA')).status).toBe(200);
    const after = await Promise.all(sys.serviceInternalUrls.warehouse!.map(internalCalls));
    for (const [i, n] of after.entries()) expect(n - before[i]!).toBeGreaterThanOrEqual(2);
  });

  it('lets the extracted module call back into the monolith, with typed errors and the end user', async () => {
    const count = await service.get('/api/v1/warehouse/orders-count');
    expect(count.status).toBe(200);
    expect(count.body.count).toBeGreaterThanOrEqual(1);
    const missing = await monolith.get('/api/v1/counter/levels/NOPE');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'UnknownSku', details: { sku: 'NOPE' } });
    expect((await monolith.get('/api/v1/counter/whoami')).body).toEqual({ sub: 'alice', scopes: ['admin'] });
    expect(await metric(sys.monolithInternalUrl, /^contract_call_duration_seconds_count\{(?=.*binding="remote")(?=.*operation="reserve")/)).toBeGreaterThanOrEqual(1);
  });

  it('keeps serving through the other instance and loses no event when one instance is SIGKILLed mid-stream', async () => {
    const accepted: string[] = [];
    const send = async (from: number, to: number) => {
      for (let i = from; i < to; i++) if ((await order(`k-${i}`)).status === 201) accepted.push(`k-${i}`);
    };
    await send(0, 10);
    await Promise.all([send(10, 25), sys.kill('warehouse', 0)]);
    // The dead instance refuses connections: calls skip it and go to the live one. (At most one
    // call may still meet a pooled socket of the dead instance; reserve is not idempotent, so that
    // one answers 503 rather than risk reserving twice.)
    await send(25, 30);
    expect(accepted.filter((id) => Number(id.slice(2)) >= 25).length).toBeGreaterThanOrEqual(4);
    await sys.restart('warehouse', 0);
    expect(accepted.length).toBeGreaterThanOrEqual(20);
    for (const id of accepted) {
      await eventually(() => confirmedInMonolith(id), `${id} confirmed in the monolith`, SETTLE_MS);
      await eventually(() => notedInService(id), `${id} noted in the service`, SETTLE_MS);
    }
  }, RESTART_TIMEOUT);

  it('loses no event when the monolith is SIGKILLed and restarted', async () => {
    for (let i = 0; i < 5; i++) expect((await order(`m-${i}`)).status).toBe(201);
    await sys.kill('monolith');
    // While the monolith is down the service keeps taking reservations; its events wait in Redis.
    const down = await service.get('/api/v1/warehouse/levels/TEA');
    expect(down.status).toBe(200);
    await sys.restart('monolith');
    for (let i = 0; i < 5; i++) {
      await eventually(() => confirmedInMonolith(`m-${i}`), `m-${i} confirmed after the restart`, SETTLE_MS);
      await eventually(() => notedInService(`m-${i}`), `m-${i} noted after the restart`, SETTLE_MS);
    }
  }, RESTART_TIMEOUT);

  it('fails fast with 503 problem+json once the breaker opens, and closes it through half-open when the service returns', async () => {
    expect((await monolith.get('/api/v1/counter/levels/TEA')).status).toBe(200);
    await killServices();
    // Load while the service is dead: every answer is a 503 problem+json, and soon the open circuit answers them.
    const seen = new Set<string>();
    await eventually(async () => {
      const r = await monolith.get('/api/v1/counter/levels/TEA');
      expect(r.status).toBe(503);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.body.code).toBe('ServiceUnavailable');
      seen.add(r.body.detail);
      return /circuit open/.test(r.body.detail);
    }, 'the breaker to open');
    expect(await metric(sys.monolithInternalUrl, /^contract_breaker_state\{.*module="warehouse"/)).toBe(1);
    expect(await metric(sys.monolithInternalUrl, /^contract_remote_rejections_total\{.*reason="open"/)).toBeGreaterThanOrEqual(1);

    await restartServices();
    await eventually(async () => (await monolith.get('/api/v1/counter/levels/TEA')).status === 200, 'calls to succeed again', SETTLE_MS);
    expect(await metric(sys.monolithInternalUrl, /^contract_breaker_state\{.*module="warehouse"/)).toBe(0);
    // The transitions, as logged: open, then a trial call in half-open, then closed (polled: the
    // child's log reaches this process through a pipe, a moment after the fact).
    await eventually(() => {
      const log = sys.process('monolith').output();
      const open = log.indexOf('circuit to warehouse is open');
      const halfOpen = log.indexOf('circuit to warehouse is half-open', open);
      return open >= 0 && halfOpen > open && log.indexOf('circuit to warehouse is closed', halfOpen) > halfOpen;
    }, 'open → half-open → closed in the monolith log');
  }, RESTART_TIMEOUT);
});
