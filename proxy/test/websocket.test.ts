// WebSocket upgrades pass through the proxy to the side the route chooses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { proxyWith, request, startUpstream, token, type Upstream } from './helpers.ts';

let server: http.Server;
let wss: WebSocketServer;
let fresh: Upstream;
let proxy: Awaited<ReturnType<typeof proxyWith>>;
const upgradeHeaders: http.IncomingHttpHeaders[] = [];
const OVERRIDE_SECRET = 'websocket-shared-secret-0123';

beforeAll(async () => {
  server = http.createServer((_req, res) => res.end('ok'));
  wss = new WebSocketServer({ server });
  wss.on('connection', (socket, req) => {
    upgradeHeaders.push(req.headers);
    socket.on('message', (data) => socket.send(`echo:${data.toString()}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  fresh = await startUpstream('orders');
  const wsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy = await proxyWith({
    pools: { monolith: { instances: [wsUrl] }, orders: { instances: [fresh.url] } },
    routes: [
      { name: 'orders', prefix: '/api/v1/orders', old: 'monolith', new: 'orders', weight: 0 },
      { name: 'private', prefix: '/api/v1/private', old: 'monolith', new: 'monolith', auth: { required: true } },
    ],
    overrideSecret: OVERRIDE_SECRET,
  });
});
afterAll(async () => {
  await proxy.close();
  for (const c of wss.clients) c.terminate();
  wss.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await fresh.close();
});

describe('WebSocket upgrades', () => {
  it('tunnels a WebSocket through the proxy, both ways, with edge headers set', async () => {
    const ws = new WebSocket(`${proxy.url.replace('http', 'ws')}/api/v1/orders/live`);
    const replies: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const got = new Promise<void>((resolve) =>
      ws.on('message', (m) => {
        replies.push(m.toString());
        if (replies.length === 2) resolve();
      }),
    );
    ws.send('one');
    ws.send('two');
    await got;
    expect(replies).toEqual(['echo:one', 'echo:two']);
    expect(upgradeHeaders[0]!['x-request-id']).toBeTruthy();
    expect(upgradeHeaders[0]!['x-forwarded-for']).toBe('127.0.0.1');
    ws.close();
    // Plain HTTP still works beside the tunnel.
    expect((await request(proxy.url, '/api/v1/orders/1')).status).toBe(200);
  });

  it('keeps the shared secret of the forced side from the upstream, as for plain HTTP', async () => {
    const ws = new WebSocket(`${proxy.url.replace('http', 'ws')}/api/v1/orders/live`, { headers: { 'x-proxy-side': 'old', 'x-proxy-side-secret': OVERRIDE_SECRET } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const seen = upgradeHeaders.at(-1)!;
    expect(seen['x-proxy-side']).toBe('old');
    expect(seen['x-proxy-side-secret']).toBeUndefined();
    ws.close();
  });

  it('checks the token on upgrades to a route that requires one', async () => {
    const refused = new WebSocket(`${proxy.url.replace('http', 'ws')}/api/v1/private/live`);
    const status = await new Promise<number>((resolve) => {
      refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      refused.once('open', () => resolve(101));
      refused.once('error', () => undefined);
    });
    expect(status).toBe(401);
    refused.terminate();

    const allowed = new WebSocket(`${proxy.url.replace('http', 'ws')}/api/v1/private/live`, {
      headers: { authorization: `Bearer ${await token('alice')}` },
    });
    await new Promise<void>((resolve, reject) => {
      allowed.once('open', () => resolve());
      allowed.once('error', reject);
    });
    allowed.close();
  });

  it('ends open tunnels when the grace of a stop runs out, so the stop finishes', async () => {
    const wsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const stopping = await proxyWith({ pools: { monolith: { instances: [wsUrl] } }, routes: [{ name: 'all', prefix: '/', old: 'monolith', new: 'monolith' }] }, { drainMs: 300 });
    const upstreamSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const ws = new WebSocket(`${stopping.url.replace('http', 'ws')}/api/v1/orders/live`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const ended = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    const upstreamEnded = new Promise<void>((resolve) => void upstreamSide.then((s) => s.once('close', () => resolve())));
    // Generous, against a loaded machine; before, the stop waited for the tunnel for good.
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still stopping after 30 s'), 30_000)));
    expect(await Promise.race([stopping.close().then(() => 'stopped'), hung])).toBe('stopped');
    clearTimeout(timer);
    // Both sides of the tunnel end: the client's, and the proxy's connection to the upstream.
    await ended;
    await upstreamEnded;
  }, 60_000);
});
