import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express, { type Express, type Router } from 'express';
import { z } from 'zod';
import { route } from './route.ts';
import { routeTable } from './route-table.ts';
import { strictRouter } from './strict-router.ts';
import { listenOnFreePort, rawAnswer, type Listening } from '../testing/raw-answer.ts';

// Two modules' routers, served by express alone and with the route table in front: every request
// must get the same answer from both, and the table must have taken the ones a declared route matches.
function routers(): Router[] {
  const a = strictRouter();
  route(a, { method: 'get', path: '/api/v1/things/special', summary: 's', responses: { 200: { description: 'x' } }, handler: async (_i, res) => void res.json({ special: true }) });
  route(a, {
    method: 'get',
    path: '/api/v1/things/:id',
    summary: 's',
    params: z.object({ id: z.string() }),
    responses: { 200: { description: 'x' } },
    handler: async ({ params }, res, req) => void res.json({ id: params.id, route: req.route?.path }),
  });
  route(a, { method: 'post', path: '/api/v1/things', summary: 's', responses: { 201: { description: 'x' } }, handler: async (_i, res) => void res.status(201).json({ made: true }) });
  const b = strictRouter();
  route(b, {
    method: 'delete',
    path: '/api/v1/others/:a/parts/:b',
    summary: 's',
    responses: { 204: { description: 'x' } },
    handler: async (_i, res, req) => void res.status(200).json({ params: req.params }),
  });
  route(b, { method: 'get', path: '/api/v1/broken', summary: 's', responses: { 200: { description: 'x' } }, handler: async () => { throw new Error('handler failed'); } });
  return [a, b];
}

/** Requests the table passed on to the routers ("METHOD path"). */
const untaken: string[] = [];

function app(withTable: boolean): Express {
  const x = express();
  const rs = routers();
  if (withTable) {
    const table = routeTable(rs);
    x.use((req, res, next) =>
      table(req, res, () => {
        untaken.push(`${req.method} ${req.path}`);
        next();
      }),
    );
  }
  for (const r of rs) x.use(r);
  x.use((req, res) => void res.status(404).json({ notFound: req.path }));
  x.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status((err as { status?: number }).status ?? 500).json({ error: err.message }));
  return x;
}

describe('the route table', () => {
  let plain: Listening;
  let table: Listening;
  beforeAll(async () => {
    plain = await listenOnFreePort(app(false));
    table = await listenOnFreePort(app(true));
  });
  afterAll(() => {
    plain.server.close();
    table.server.close();
  });

  const requests: [string, string][] = [
    ['GET', '/api/v1/things/special'], // declared before the parameter route: it wins, as in express
    ['GET', '/api/v1/things/42'],
    ['GET', '/api/v1/things/a%20b%2Fc'], // parameters decoded
    ['HEAD', '/api/v1/things/42'], // served by the GET route
    ['POST', '/api/v1/things'],
    ['DELETE', '/api/v1/others/x/parts/y'],
    ['GET', '/api/v1/broken'], // a rejected handler reaches the error handler
    ['OPTIONS', '/api/v1/things/42'], // express's Allow answer
    ['PUT', '/api/v1/things/42'], // no such method: 404
    ['GET', '/api/v1/things/42/'], // strict: no trailing slash
    ['GET', '/API/V1/THINGS/42'], // case-sensitive
    ['GET', '/api/v1//things/42'],
    ['GET', '/api/v1/things/%E0%A4%A'], // cannot be decoded: express's 400
    ['GET', '/nowhere'],
  ];

  it('answers every request as express alone does', async () => {
    for (const [method, path] of requests) {
      expect(await rawAnswer(table.base, path, { method }), `${method} ${path}`).toEqual(await rawAnswer(plain.base, path, { method }));
    }
    expect(JSON.parse((await rawAnswer(table.base, '/api/v1/things/a%20b%2Fc')).body)).toEqual({ id: 'a b/c', route: '/api/v1/things/:id' });
    expect((await rawAnswer(table.base, '/api/v1/things/%E0%A4%A')).status).toBe(400);
    // The table took every request a declared route matches; the routers saw only the rest.
    expect([...new Set(untaken)].sort()).toEqual(
      ['OPTIONS /api/v1/things/42', 'PUT /api/v1/things/42', 'GET /api/v1/things/42/', 'GET /API/V1/THINGS/42', 'GET /api/v1//things/42', 'GET /api/v1/things/%E0%A4%A', 'GET /nowhere'].sort(),
    );
  });
});
