// One HTTP listener of a deployable (the public one or the internal one), and its graceful stop:
// no new connections, requests in flight finish, then each keep-alive connection closes as soon
// as it has no request in progress. Node's own idle tracking counts a connection whose request
// body is still arriving as idle, so requests are counted per socket here instead.
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging/logger.ts';

/**
 * A request Node's parser refuses before any handler sees it (headers too large, malformed
 * request line) still gets a problem answer with a request id, like every other refusal.
 */
function answerUnparseable(err: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  if (!socket.writable || (err.code !== 'HPE_HEADER_OVERFLOW' && !err.code?.startsWith('HPE_'))) {
    socket.destroy();
    return;
  }
  const [status, title, code] = err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'HeadersTooLarge'] : [400, 'Bad Request', 'MalformedRequest'];
  const requestId = randomUUID();
  const body = JSON.stringify({ type: `/problems/${code.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`, title, status, code, detail: 'The request could not be read', requestId });
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\ncontent-type: application/problem+json\r\nx-request-id: ${requestId}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

export interface Listener {
  readonly server: Server;
  readonly port: number;
  /** Stops accepting, waits for requests in flight (up to `timeoutMs`), then closes every connection. */
  drain(timeoutMs: number, logger: Logger): Promise<void>;
}

export function listen(handler: RequestListener, port: number, host: string): Promise<Listener> {
  const server = createServer({ keepAliveTimeout: 5_000 }, handler);
  const inFlight = new Map<Socket, number>();
  let draining = false;
  server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  server.on('clientError', answerUnparseable);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      if (draining && left === 0) socket.destroySoon();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        server,
        port: (server.address() as AddressInfo).port,
        drain(timeoutMs, logger) {
          draining = true;
          return new Promise((done) => {
            const timer = setTimeout(() => {
              logger.warn({ timeoutMs, open: inFlight.size }, 'in-flight requests did not finish in time; closing their connections');
              for (const socket of inFlight.keys()) socket.destroy();
            }, timeoutMs);
            server.close(() => {
              clearTimeout(timer);
              done();
            });
            for (const [socket, n] of inFlight) if (n === 0) socket.destroySoon();
          });
        },
      });
    });
  });
}
