// The tests' HTTP client sends a repeatable request again once when its connection is reset before
// any answer (a keep-alive connection the server had just closed), and never any other request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { client } from './http.ts';

describe('test HTTP client on a reset connection', () => {
  let server: Server;
  let base: string;
  let arrivals = 0;
  beforeAll(async () => {
    // Every odd request has its connection reset before an answer; every even one is answered.
    server = createServer((req, res) => {
      arrivals++;
      if (arrivals % 2 === 1) req.socket.resetAndDestroy();
      else res.end(JSON.stringify({ n: arrivals }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends a GET, or a POST with an idempotency key, again once', async () => {
    arrivals = 0;
    expect((await client(base).get('/x')).body).toEqual({ n: 2 });
    expect((await client(base).post('/x', {}, { 'Idempotency-Key': 'k' })).body).toEqual({ n: 4 });
  });

  it('lets a reset POST without an idempotency key fail, sent once', async () => {
    arrivals = 0;
    await expect(client(base).post('/x', {})).rejects.toThrow('fetch failed');
    expect(arrivals).toBe(1);
  });
});
