// Errors the proxy itself produces are RFC 9457 problem documents shaped like the app's: a stable
// PascalCase `code` a client can switch on, the request id to quote (also in X-Request-Id), and the
// request as `instance`. Never a file path or a stack: details name what went wrong in words.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { requestIdOf } from './edge-headers.ts';
import { randomId } from './fast-ids.ts';

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

/**
 * Answers a request Node's parser refused (a bad request line or header, headers too large, too
 * slow) before any handler saw it: still a problem document with a code and a request id, so a
 * client is never left with a silently closed connection when it can still be told why.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // Node's parser reports every further chunk of a refused request again: it was answered once.
  if (answered.has(socket)) return;
  const sent = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (err.code === 'ECONNRESET' || !socket.writable || sent) {
    socket.destroy();
    return;
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') return endWithProblem(socket, 431, 'HeadersTooLarge', 'the request headers are too large', '');
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return endWithProblem(socket, 408, 'RequestTimeout', 'the request did not arrive in time', '');
  endWithProblem(socket, 400, 'MalformedRequest', 'the request is not valid HTTP', '');
}

/** CONNECT asks for a tunnel to anywhere: this is a reverse proxy, not a forward one. */
export function refuseConnect(req: IncomingMessage, socket: Duplex): void {
  endWithProblem(socket, 405, 'MethodNotAllowed', 'this proxy does not open CONNECT tunnels', req.url ?? '', requestIdOf(req));
}

const answered = new WeakSet<Duplex>();

/** A whole problem answer written on a bare socket, which is then closed. */
function endWithProblem(socket: Duplex, status: number, code: string, detail: string, instance: string, requestId = randomId()): void {
  answered.add(socket);
  const title = STATUS_CODES[status] ?? 'Error';
  const problem: Problem = { type: `/problems/${kebab(code)}`, title, status, detail, code, instance, requestId };
  const body = JSON.stringify(problem);
  socket.on('error', () => socket.destroy());
  // What the client still sends is read and dropped, so its end can arrive and the socket close;
  // a client that never ends its side is cut off shortly after the answer has gone out.
  socket.resume();
  socket.once('finish', () => setTimeout(() => socket.destroy(), 2000).unref());
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nconnection: close\r\ncontent-type: application/problem+json\r\nx-request-id: ${requestId}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
