// The API's body handling in one layer: no body goes straight on, a present body must be JSON.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import type { Server } from 'node:http';
import pino from 'pino';
import { jsonRequestBody } from './require-json.ts';
import { problemHandler } from './problem.ts';

describe('the body of an API request', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = express();
    app.use(jsonRequestBody({ limit: '1kb', maxDepth: 8 }));
    app.all('/echo', (req, res) => {
      res.json({ body: req.body === undefined ? 'none' : req.body });
    });
    app.use(problemHandler(pino({ level: 'silent' })));
    await new Promise<void>((r) => {
      server = app.listen(0, '127.0.0.1', () => r());
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/echo`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('lets a request without a body through untouched', async () => {
    expect(await (await fetch(base)).json()).toEqual({ body: 'none' });
  });

  it('parses a JSON body, and an empty one sent as JSON as {} (as body-parser does)', async () => {
    const post = (body: string) => fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(await (await post('{"a":1}')).json()).toEqual({ body: { a: 1 } });
    expect(await (await post('')).json()).toEqual({ body: {} });
  });

  it('refuses a body that is not JSON with 415, and one nested too deep with 400', async () => {
    const text = await fetch(base, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(text.status).toBe(415);
    expect(((await text.json()) as { code: string }).code).toBe('UnsupportedMediaType');
    const deep = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '['.repeat(20) + ']'.repeat(20) });
    expect(deep.status).toBe(400);
  });
});
