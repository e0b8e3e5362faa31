// Errors the proxy itself produces are RFC 9457 problem documents shaped like the app's: a stable
// PascalCase `code` a client can switch on, the request id to quote (also in X-Request-Id), and the
// request as `instance`. Never a file path or a stack: details name what went wrong in words.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import { requestIdOf } from './edge-headers.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance: string;
  requestId: string;
}

const kebab = (code: string) => code.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

export function sendProblem(res: ServerResponse, status: number, code: string, detail: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const req = res.req;
  const requestId = requestIdOf(req);
  const title = STATUS_CODES[status] ?? 'Error';
  const problem: Problem = { type: `/problems/${kebab(code)}`, title, status, detail, code, instance: req.url ?? '/', requestId };
  const body = JSON.stringify(problem);
  // The title as the reason phrase: also replaces any phrase a failed writeHead left on `res`.
  res.writeHead(status, title, { ...headers, 'x-request-id': requestId, 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value, null, 2);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': requestIdOf(res.req) });
  res.end(body);
}
