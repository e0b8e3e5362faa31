import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { request, token, waitFor, type Upstream, startTwoSides, stopTwoSides, type TwoSides } from './helpers.ts';
import { readConfig } from '../src/config-file.ts';

let old: Upstream;
let fresh: Upstream;
let proxy: TwoSides['proxy'];

beforeAll(async () => {
  ({ old, fresh, proxy } = await startTwoSides());
});
afterAll(() => stopTwoSides({ old, fresh, proxy }));

const served = async (agent?: http.Agent) => (await request(proxy.url, '/api/v1/orders/1', { agent })).json<{ upstream: string }>().upstream;
const editFile = (change: (cfg: Record<string, any>) => void) => {
  const cfg = JSON.parse(readFileSync(proxy.configPath, 'utf8'));
  change(cfg);
  writeFileSync(proxy.configPath, JSON.stringify(cfg, null, 2));
};

describe('hot reload', () => {
  it('applies an edit of the file without a restart, on the same client connection', async () => {
    // One socket for the whole test: a reload must not drop it.
    const oneSocket = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let sockets = 0;
    oneSocket.on('free', () => undefined);
    const created = oneSocket.createConnection.bind(oneSocket);
    oneSocket.createConnection = ((...args: Parameters<typeof created>) => {
      sockets++;
      return created(...args);
    }) as typeof oneSocket.createConnection;

    expect(await served(oneSocket)).toBe('monolith');
    editFile((cfg) => (cfg.routes[0].weight = 100));
    // The file is polled every 200 ms (watchIntervalMs); no timing assertion here, only the outcome.
    await waitFor(async () => (await served(oneSocket)) === 'orders', 'the edit to take effect');
    expect(sockets).toBe(1);
    oneSocket.destroy();
  });

  it('rejects an invalid edit, keeps serving the previous config and counts the rejection', async () => {
    proxy.setWeight('orders', 100);
    const valid = readFileSync(proxy.configPath, 'utf8');
    writeFileSync(proxy.configPath, valid.replace('"weight": 100', '"weight": "lots"'));
    await waitFor(
      async () => (await request(proxy.internalUrl, '/metrics')).body.includes('proxy_config_reloads_total{result="rejected"} 1'),
      'the rejection to be counted',
    );
    expect(await served()).toBe('orders');
    writeFileSync(proxy.configPath, '{ "pools": ');
    await waitFor(
      async () => (await request(proxy.internalUrl, '/metrics')).body.includes('proxy_config_reloads_total{result="rejected"} 2'),
      'the second rejection',
    );
    expect(await served()).toBe('orders');
    // While the file is invalid the admin API refuses to overwrite it (someone is mid-edit).
    expect(() => proxy.setWeight('orders', 0)).toThrow(/invalid JSON at line 1/);
    // A valid edit afterwards is applied again.
    writeFileSync(proxy.configPath, valid.replace('"weight": 100', '"weight": 0'));
    await waitFor(async () => (await served()) === 'monolith', 'the fixed file to be applied');
  });
});

describe('admin API', () => {
  it('refuses requests without an admin token', async () => {
    const none = await request(proxy.internalUrl, '/_proxy/state');
    expect(none.status).toBe(401);
    expect(none.headers['content-type']).toBe('application/problem+json');
    const user = await request(proxy.internalUrl, '/_proxy/state', { headers: { authorization: `Bearer ${await token('bob', 'orders:read')}` } });
    expect(user.status).toBe(403);
  });

  it('reads the live state and sets a weight, persisting it to the file', async () => {
    const auth = { authorization: `Bearer ${await token('ops', 'admin')}`, 'content-type': 'application/json' };
    const set = await request(proxy.internalUrl, '/_proxy/routes/orders/weight', { method: 'PUT', headers: auth, body: JSON.stringify({ weight: 100 }) });
    expect(set.status).toBe(200);
    expect(readConfig(proxy.configPath).routes[0]!.weight).toBe(100);
    expect(await served()).toBe('orders');

    const state = (await request(proxy.internalUrl, '/_proxy/state', { headers: auth })).json<any>();
    expect(state.routes[0]).toMatchObject({ name: 'orders', weight: 100, old: 'monolith', new: 'orders' });
    expect(state.pools.map((p: { name: string }) => p.name).sort()).toEqual(['monolith', 'orders']);

    const bad = await request(proxy.internalUrl, '/_proxy/routes/orders/weight', { method: 'PUT', headers: auth, body: JSON.stringify({ weight: 101 }) });
    expect(bad.status).toBe(400);
    const missing = await request(proxy.internalUrl, '/_proxy/routes/nope/weight', { method: 'PUT', headers: auth, body: JSON.stringify({ weight: 1 }) });
    expect(missing.status).toBe(404);
  });
});
