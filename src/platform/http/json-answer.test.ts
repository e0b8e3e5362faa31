import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express, { type Express } from 'express';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { installJsonAnswer } from './json-answer.ts';
import { weakEtag } from './weak-etag.ts';

// The same routes on two apps: express's own res.json, and with the JSON answer installed. Every
// answer must carry the same status, headers (but Date) and body on both.
function app(withShortcut: boolean): Express {
  const a = express();
  a.set('etag', weakEtag);
  if (withShortcut) installJsonAnswer(a);
  a.get('/thing', (_req, res) => void res.json({ sku: 'MUG-STONE', name: 'Mug ✓ 𝄞', priceMinor: 1250 }));
  a.get('/created', (_req, res) => void res.status(201).json([1, 2, 3]));
  a.get('/typed', (_req, res) => void res.type('application/problem+json').status(404).json({ title: 'Not Found', status: 404 }));
  a.get('/tagged', (_req, res) => void res.setHeader('ETag', '"v7"').json({ version: 7 }));
  a.get('/empty', (_req, res) => void res.status(204).json({ ignored: true }));
  a.get('/nothing', (_req, res) => void res.json(undefined));
  return a;
}

const listen = (a: Express) =>
  new Promise<{ server: Server; base: string }>((resolve) => {
    const server = a.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });

// node:http, not fetch: fetch adds `Cache-Control: no-cache` to a conditional request, which makes it unconditional.
function answer(base: string, path: string, init: { method?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
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

describe('the JSON answer', () => {
  let plain: { server: Server; base: string };
  let fast: { server: Server; base: string };
  beforeAll(async () => {
    plain = await listen(app(false));
    fast = await listen(app(true));
  });
  afterAll(() => {
    plain.server.close();
    fast.server.close();
  });

  it('answers exactly what express’s res.json answers', async () => {
    for (const path of ['/thing', '/created', '/typed', '/tagged', '/empty', '/nothing']) {
      const expected = await answer(plain.base, path);
      expect(await answer(fast.base, path), path).toEqual(expected);
    }
    expect((await answer(fast.base, '/thing')).headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', etag: expect.stringMatching(/^W\/"/) });
  });

  it('leaves conditional requests and HEAD to express: a matching tag is a 304', async () => {
    const { headers } = await answer(fast.base, '/thing');
    const inits: { method?: string; headers?: Record<string, string> }[] = [{ headers: { 'if-none-match': String(headers.etag) } }, { headers: { 'if-none-match': 'W/"other"' } }, { headers: { 'if-modified-since': new Date().toUTCString() } }, { method: 'HEAD' }];
    for (const init of inits) {
      const expected = await answer(plain.base, '/thing', init);
      expect(await answer(fast.base, '/thing', init), JSON.stringify(init)).toEqual(expected);
    }
    expect((await answer(fast.base, '/thing', { headers: { 'if-none-match': String(headers.etag) } })).status).toBe(304);
  });

  it('refuses an app whose JSON settings it would ignore', () => {
    const a = express();
    a.set('etag', weakEtag);
    a.set('json spaces', 2);
    expect(() => installJsonAnswer(a)).toThrow(/json spaces/);
    expect(() => installJsonAnswer(express())).toThrow(/weakEtag/);
  });
});
