// For tests that compare two servers' answers exactly: an app listening on a free port, and an
// answer read with node:http (not fetch, which adds `Cache-Control: no-cache` to a conditional
// request and so makes it unconditional), without the headers that differ by moment or connection.
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface Listening {
  server: Server;
  base: string;
}

export function listenOnFreePort(app: Express): Promise<Listening> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
}

export interface RawAnswer {
  status: number;
  /** Every header but date, connection and keep-alive. */
  headers: Record<string, unknown>;
  body: string;
}

export function rawAnswer(base: string, path: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => {
        const { date: _date, connection: _connection, 'keep-alive': _keepAlive, ...headers } = res.headers;
        resolve({ status: res.statusCode!, headers, body });
      });
    });
    req.once('error', reject).end();
  });
}
