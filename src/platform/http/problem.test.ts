// Unexpected failures leave as a 500 problem that names the request, never the internals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import type { Server } from 'node:http';
import pino from 'pino';
import { problemHandler } from './problem.ts';
import { requestContext } from './request-context.ts';

describe('problem+json for unexpected errors', () => {
  let server: Server;
  let base: string;
  const logged: string[] = [];

  beforeAll(async () => {
    const app = express();
    app.use(requestContext);
    app.get('/boom', () => {
      throw new Error('password=hunter2 at /srv/app/secret.ts:42');
    });
    app.get('/pg-range', () => {
      throw Object.assign(new Error('date/time field value out of range: "0000-01-01"'), { code: '22008' });
    });
    // drizzle's error around a NotRun around pg's: a statement that did not run because a write held
    // for its round trip was refused.
    app.get('/pg-range-held', () => {
      const pgError = Object.assign(new Error('date/time field value out of range'), { code: '22008' });
      throw new Error('Failed query: insert …', { cause: new Error('not run: a statement sent before it failed', { cause: pgError }) });
    });
    app.use(problemHandler(pino({ level: 'error' }, { write: (line: string) => logged.push(line) })));
    await new Promise<void>((r) => {
      server = app.listen(0, '127.0.0.1', () => r());
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('answers 500 without the message or stack, and logs them for the operator', async () => {
    const res = await fetch(`${base}/boom`, { headers: { 'x-request-id': 'req-500' } });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const text = await res.text();
    expect(text).not.toMatch(/hunter2|secret\.ts|at /);
    expect(JSON.parse(text)).toMatchObject({ status: 500, code: 'InternalError', requestId: 'req-500', instance: '/boom' });
    expect(logged.join('\n')).toContain('secret.ts');
  });

  it('answers 400 when Postgres refuses a value as out of range', async () => {
    const res = await fetch(`${base}/pg-range`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('InvalidValue');
  });

  it('answers 400 too when the refused value was a held write whose error reached another statement, causes deep', async () => {
    const res = await fetch(`${base}/pg-range-held`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('InvalidValue');
  });
});
