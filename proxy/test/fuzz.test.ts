// Property-based fuzzing of the proxy and its admin API over raw sockets, so any bytes a client
// could send are sent: paths in every spelling (case, percent- and double encoding, dots, slashes,
// backslashes, parameters, long segments, broken encodings), odd methods and headers, bodies deep,
// huge, of the wrong type or full of control characters. Whatever comes in, the proxy answers
// below 500, every error it writes is a problem document with a code and the request id, nothing
// that reads as an internal path under any server's reading reaches an upstream, and the process
// keeps serving. A fixed seed and a bounded number of runs keep it in `npm test`; for a longer
// hunt: PROXY_FUZZ_RUNS=5000 PROXY_FUZZ_SEED=$RANDOM npx vitest run proxy/test/fuzz.test.ts
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import fc from 'fast-check';
import { proxyWith, request, startUpstream, token, type Upstream } from './helpers.ts';
import type { RunningProxy } from '../src/proxy-server.ts';

const RUNS = Number(process.env.PROXY_FUZZ_RUNS ?? 200);
const SEED = Number(process.env.PROXY_FUZZ_SEED ?? 20_240_611);
const INTERNAL = ['internal', 'metrics', 'admin', '_proxy'];
const OVERRIDE_SECRET = 'fuzz-shared-secret-0123';

let old: Upstream;
let fresh: Upstream;
let proxy: RunningProxy;
let adminToken: string;
let testerToken: string;

beforeAll(async () => {
  old = await startUpstream('monolith');
  fresh = await startUpstream('orders');
  proxy = await proxyWith({
    pools: { monolith: { instances: [old.url] }, orders: { instances: [fresh.url] } },
    routes: [
      { name: 'orders', prefix: '/api/v1/orders', old: 'monolith', new: 'orders', weight: 50 },
      { name: 'private', prefix: '/api/v1/private', old: 'monolith', new: 'orders', weight: 10, auth: { required: true, scope: 'orders:write' } },
      { name: 'limited', prefix: '/api/v1/limited', old: 'monolith', new: 'monolith', rateLimit: { capacity: 5, refillPerSecond: 1 } },
    ],
    overrideSecret: OVERRIDE_SECRET,
  });
  adminToken = await token('ops', 'admin');
  testerToken = await token('tess', 'tester');
});
afterAll(async () => {
  await proxy.close();
  await old.close();
  await fresh.close();
});

// ---- what a client sends -------------------------------------------------------------------

const percent = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
const randomCase = (s: string) => fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((up) => [...s].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));

const spelledName = fc.constantFrom(...INTERNAL, 'health', 'api', 'v1', 'orders', 'private', 'limited').chain((name) =>
  fc.oneof(
    fc.constant(name),
    randomCase(name),
    fc.constant(percent(name)),
    fc.constant(percent(name).replace(/%/g, '%25')),
    fc.nat({ max: name.length - 1 }).map((i) => name.slice(0, i) + percent(name[i]!) + name.slice(i + 1)),
    fc.constant(`${name};jsessionid=x`),
    fc.constant(`${name}.`),
    fc.constant(`${name}%20`),
  ),
);
const segment = fc.oneof(
  { weight: 5, arbitrary: spelledName },
  { weight: 2, arbitrary: fc.constantFrom('.', '..', '%2e', '%2e%2e', '%252e%252e', '%2F', '%252F', '%5C', '\\', '') },
  { weight: 2, arbitrary: fc.constantFrom('%', '%Z', '%ZZ', '%E0%A4%A', '%C0%AF', '%FF', '%00', '%0d%0a') },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => encodeURIComponent(s)) },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,=:@-]{0,16}$/) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 3000 }).map((n) => 'x'.repeat(n)) },
);
const path = fc
  .tuple(
    fc.array(fc.tuple(fc.constantFrom('/', '/', '/', '//', '\\'), segment), { minLength: 1, maxLength: 7 }),
    fc.option(fc.stringMatching(/^[A-Za-z0-9=&%._-]{0,24}$/), { nil: undefined }),
  )
  .map(([parts, query]) => {
    const p = parts.map(([sep, seg]) => sep + seg).join('');
    return (p.startsWith('/') ? p : `/${p}`) + (query === undefined ? '' : `?${query}`);
  });

const method = fc.constantFrom('GET', 'GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'get', 'FOO', 'CONNECT', 'TRACE');

const deep = (n: number, open: string, close: string) => open.repeat(n) + close.repeat(n);
const body = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.json().map((j) => j) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 5000 }).map((n) => `{"weight":${deep(n, '[', ']')}}`) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 5000 }).map((n) => deep(n, '{"a":', '}').replace(/}$/, '1}')) },
  { weight: 1, arbitrary: fc.integer({ min: 10_000, max: 200_000 }).map((n) => `{"weight":1,"pad":"${'p'.repeat(n)}"}`) },
  { weight: 1, arbitrary: fc.constantFrom('{"weight":"ten"}', '{"weight":-1}', '{"weight":1e400}', '[1,2]', 'null', '"x"', '{"weight":1,"extra":true}', '{"weight":') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }).map((s) => s.replace(/[\ud800-\udfff]/g, '')) },
  { weight: 1, arbitrary: fc.constant('{"name":"\u0000\u0001\u001f\u007f","weight":5}') },
);

const headerSets = fc.record(
  {
    authorization: fc.oneof(
      fc.constant(() => `Bearer ${adminToken}`),
      fc.constant(() => `bearer ${testerToken}`),
      fc.constantFrom('Bearer', 'Bearer x.y.z', 'Basic YWxhZGRpbjpvcGVu', `Bearer ${'a'.repeat(4000)}`, 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.').map((v) => () => v),
    ),
    'x-proxy-side': fc.constantFrom('new', 'NEW', 'Old', 'sideways', ''),
    'x-proxy-side-secret': fc.constantFrom(OVERRIDE_SECRET, 'wrong', ''),
    'content-type': fc.constantFrom('application/json', 'application/merge-patch+json', 'text/plain', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', '*/*'),
    'idempotency-key': fc.stringMatching(/^[A-Za-z0-9-]{1,40}$/),
    'x-request-id': fc.oneof(fc.stringMatching(/^[\w.:-]{1,40}$/), fc.stringMatching(/^[ -~]{0,200}$/)),
    cookie: fc.constantFrom('proxy_uid=abc', 'proxy_uid=', '=;;;', `proxy_uid=${'z'.repeat(500)}`),
    traceparent: fc.constantFrom('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', '00-00000000000000000000000000000000-0000000000000000-00', 'garbage'),
    'x-forwarded-for': fc.constantFrom('203.0.113.9', 'not-an-address', ''),
    expect: fc.constant('100-continue'),
    'transfer-encoding': fc.constant('chunked'),
  },
  { requiredKeys: [] },
);

// ---- a raw HTTP/1.1 client ---------------------------------------------------------------------

interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function rawRequest(port: number, method: string, target: string, headers: Record<string, string>, payload: string): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const bytes = Buffer.from(payload, 'utf8');
    const chunked = headers['transfer-encoding'] === 'chunked';
    const lines = [`${method} ${target} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close'];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    if (!chunked) lines.push(`content-length: ${bytes.length}`);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${method} ${target.slice(0, 200)}`)));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(parseReply(Buffer.concat(chunks), method)));
    socket.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    // Not end(): Node's server drops a request whose client half-closes before the answer; with
    // `connection: close` the server closes once it has answered.
    socket.write(chunked ? Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n0\r\n\r\n')]) : bytes);
  });
}

function parseReply(raw: Buffer, method: string): RawReply {
  let rest = raw;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return { status: 0, headers: {}, body: rest.toString('latin1') };
    const head = rest.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(head[0]!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    rest = rest.subarray(end + 4);
    if (status < 200) continue; // 100 Continue, then the real answer
    let body = rest;
    if (method.toUpperCase() === 'HEAD' || status === 204 || status === 304) body = Buffer.alloc(0);
    else if (headers['transfer-encoding'] === 'chunked') body = unchunk(rest);
    return { status, headers, body: body.toString('utf8') };
  }
}

function unchunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!size) break;
    out.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(out);
}

// ---- what must hold --------------------------------------------------------------------------

/** An error the proxy wrote is a problem document with a code and the request id (also in the header). */
function expectProblem(reply: RawReply, method: string): void {
  expect(reply.headers['content-type']).toBe('application/problem+json');
  expect(reply.headers['x-request-id']).toEqual(expect.any(String));
  if (method.toUpperCase() === 'HEAD') return;
  const problem = JSON.parse(reply.body) as Record<string, unknown>;
  expect(problem).toMatchObject({ status: reply.status, code: expect.stringMatching(/^[A-Z][A-Za-z]+$/), requestId: reply.headers['x-request-id'] });
}

/** An independent, lenient reading of a path (what the most permissive server would route on). */
function readsAsInternal(rawPath: string): boolean {
  let p = rawPath.split('?')[0]!;
  for (let i = 0; i < 6; i++) {
    try {
      const next = decodeURIComponent(p);
      if (next === p) break;
      p = next;
    } catch {
      break;
    }
  }
  const out: string[] = [];
  for (const s of p.toLowerCase().replace(/\\/g, '/').split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  const first = (out[0] ?? '').split(';')[0]!.replace(/[.\s\0]+$/, '');
  return INTERNAL.includes(first);
}

const resolveHeaders = (h: Record<string, string | (() => string)>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, typeof v === 'function' ? v() : v]));

async function stillServing(): Promise<void> {
  expect((await request(proxy.url, '/health/live', { agent: false })).status).toBe(200);
  expect((await request(proxy.internalUrl, '/health/ready', { agent: false })).status).toBe(200);
}

describe('fuzzing the proxy', () => {
  it('answers anything on the public port below 500, errors as problems, and forwards nothing that reads as internal', async () => {
    await fc.assert(
      fc.asyncProperty(method, path, headerSets, body, async (m, target, headers, payload) => {
        const before = old.seen.length + fresh.seen.length;
        const reply = await rawRequest(proxy.port, m, target, resolveHeaders(headers), payload);
        expect(reply.status, `${m} ${target.slice(0, 200)}`).toBeGreaterThan(0);
        expect(reply.status, `${m} ${target.slice(0, 200)}`).toBeLessThan(500);
        if (reply.status >= 400) expectProblem(reply, m);
        const forwarded = [...old.seen, ...fresh.seen].slice(before);
        for (const s of forwarded) expect(readsAsInternal(s.url), `forwarded ${s.url.slice(0, 200)}`).toBe(false);
        if (readsAsInternal(target)) expect(forwarded).toEqual([]);
        // The upstreams only ever hear the proxy's own request id, never a client's unsafe one.
        for (const s of forwarded) expect(s.headers['x-request-id']).toMatch(/^[\w.:-]{1,128}$/);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    await stillServing();
  }, 120_000);

  it('answers anything on the admin API below 500, errors as problems, and keeps serving', async () => {
    const adminPath = fc
      .array(fc.oneof(fc.constantFrom('routes', 'orders', 'nope', 'weight', 'canary', 'state', 'shadow', 'pools', 'ROUTES', '%E0%A4%A', '%ZZ', '..', '%2F', ''), segment), { maxLength: 4 })
      .map((parts) => `/_proxy/${parts.join('/')}`);
    await fc.assert(
      fc.asyncProperty(method, adminPath, headerSets, body, async (m, target, headers, payload) => {
        const reply = await rawRequest(proxy.internalPort, m, target, resolveHeaders(headers), payload);
        expect(reply.status, `${m} ${target.slice(0, 200)}`).toBeGreaterThan(0);
        expect(reply.status, `${m} ${target.slice(0, 200)}`).toBeLessThan(500);
        if (reply.status >= 400) expectProblem(reply, m);
      }),
      { seed: SEED + 1, numRuns: RUNS },
    );
    await stillServing();
  }, 120_000);
});
