import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express, { type Express } from 'express';
import { installJsonAnswer } from './json-answer.ts';
import { weakEtag } from './weak-etag.ts';
import { listenOnFreePort, rawAnswer, type Listening } from '../testing/raw-answer.ts';

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

describe('the JSON answer', () => {
  let plain: Listening;
  let fast: Listening;
  beforeAll(async () => {
    plain = await listenOnFreePort(app(false));
    fast = await listenOnFreePort(app(true));
  });
  afterAll(() => {
    plain.server.close();
    fast.server.close();
  });

  it('answers exactly what express’s res.json answers', async () => {
    for (const path of ['/thing', '/created', '/typed', '/tagged', '/empty', '/nothing']) {
      const expected = await rawAnswer(plain.base, path);
      expect(await rawAnswer(fast.base, path), path).toEqual(expected);
    }
    expect((await rawAnswer(fast.base, '/thing')).headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', etag: expect.stringMatching(/^W\/"/) });
  });

  it('leaves conditional requests and HEAD to express: a matching tag is a 304', async () => {
    const { headers } = await rawAnswer(fast.base, '/thing');
    const inits: { method?: string; headers?: Record<string, string> }[] = [{ headers: { 'if-none-match': String(headers.etag) } }, { headers: { 'if-none-match': 'W/"other"' } }, { headers: { 'if-modified-since': new Date().toUTCString() } }, { method: 'HEAD' }];
    for (const init of inits) {
      const expected = await rawAnswer(plain.base, '/thing', init);
      expect(await rawAnswer(fast.base, '/thing', init), JSON.stringify(init)).toEqual(expected);
    }
    expect((await rawAnswer(fast.base, '/thing', { headers: { 'if-none-match': String(headers.etag) } })).status).toBe(304);
  });

  it('refuses an app whose JSON settings it would ignore', () => {
    const a = express();
    a.set('etag', weakEtag);
    a.set('json spaces', 2);
    expect(() => installJsonAnswer(a)).toThrow(/json spaces/);
    expect(() => installJsonAnswer(express())).toThrow(/weakEtag/);
  });
});
