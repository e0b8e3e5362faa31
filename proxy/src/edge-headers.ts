// What the edge adds to every request it forwards. X-Request-Id is kept if the client sent a
// sane one, else created; traceparent keeps the caller's trace id but names the proxy's own span as
// the parent, else starts a trace. X-Forwarded-* are appended/set so upstreams see the real client.
import { randomHex, randomId } from './fast-ids.ts';
import type { IncomingMessage } from 'node:http';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const SANE_ID = /^[\w.:-]{1,128}$/;

/** The request's id: the client's if it sent a sane one, else a new one, kept on the request from then on. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && SANE_ID.test(given)) return given;
  const id = randomId();
  req.headers['x-request-id'] = id;
  return id;
}

/**
 * Sets the edge headers on a request about to go upstream, HTTP or WebSocket alike, and takes out
 * `secretHeader` (the forced side's shared secret is for the proxy alone).
 */
export function applyEdgeHeaders(req: IncomingMessage, encrypted: boolean, secretHeader: string): string {
  const h = req.headers;
  if (h[secretHeader] !== undefined) delete h[secretHeader];
  const requestId = requestIdOf(req);

  const span = randomHex(8);
  const tp = typeof h.traceparent === 'string' ? TRACEPARENT.exec(h.traceparent) : null;
  h.traceparent = tp && !/^0+$/.test(tp[1]!) ? `00-${tp[1]}-${span}-${tp[3]}` : `00-${randomHex(16)}-${span}-01`;

  const addr = req.socket.remoteAddress ?? '';
  const prior = h['x-forwarded-for'];
  h['x-forwarded-for'] = prior ? `${prior}, ${addr}` : addr;
  h['x-forwarded-proto'] = encrypted ? 'https' : 'http';
  if (h.host) h['x-forwarded-host'] = h.host;
  return requestId;
}
