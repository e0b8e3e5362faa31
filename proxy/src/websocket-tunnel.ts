// WebSocket upgrades: the same route decision and token check as plain requests, then a raw tunnel
// to the chosen instance through http-proxy-middleware (decision 7 says why not undici here).
// Tunnels are not rate-limited (one upgrade is one request) and never fall back.
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import type { RouteTable } from './route-table.ts';
import { overrideSecretHeader, type Gate } from './gate.ts';
import { decideRoute } from './route-decision.ts';
import { applyEdgeHeaders } from './edge-headers.ts';

type TunnelRequest = IncomingMessage & { tunnelTarget?: URL };

export class WebSocketTunnels {
  private readonly hpm: RequestHandler;
  private readonly table: () => RouteTable;
  private readonly gate: Gate;
  /** Client sockets of tunnels, open or being opened: upgraded, so no longer their server's to close. */
  private readonly open = new Set<Socket>();

  constructor(table: () => RouteTable, gate: Gate) {
    this.table = table;
    this.gate = gate;
    this.hpm = createProxyMiddleware({
      ejectPlugins: true,
      plugins: [
        (proxy) => proxy.on('error', (_err, _req, socket) => (socket as Socket).destroy()),
        // The upstream side of a tunnel ends with the client's, however that closes (a stop's
        // closeAll(), an error): the proxy pipes the two, and a destroyed client socket only unpipes.
        (proxy) =>
          proxy.on('proxyReqWs', (proxyReq, _req, socket) => {
            const client = socket as Socket;
            client.once('close', () => proxyReq.destroy());
            proxyReq.once('upgrade', (_res, upstream: Socket) => (client.destroyed ? upstream.destroy() : client.once('close', () => upstream.destroy())));
          }),
      ],
      router: (req) => (req as TunnelRequest).tunnelTarget!,
      agent: false,
    });
  }

  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    const table = this.table();
    const route = table.match('GET', req.url ?? '/');
    // A route that checks tokens checks them on upgrades too, or a WebSocket would walk around it.
    if (this.gate.needed(table, route, req)) {
      this.gate
        .admit(req, table, route, false)
        .then((admission) => {
          // Gone while its token was checked (its client, or a stop's closeAll()): nothing to open.
          if (socket.destroyed) return;
          if (!admission.refusal) return this.tunnel(req, socket, head, table, route, admission.mayForce);
          const { status } = admission.refusal;
          socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
        })
        // Nothing a client sends may take the process down.
        .catch(() => socket.destroy());
      return;
    }
    this.tunnel(req, socket, head, table, route, false);
  }

  /** Ends every tunnel: at the end of a stop's grace, as requests still in flight are. */
  closeAll(): void {
    for (const socket of this.open) socket.destroy();
    this.open.clear();
  }

  private tunnel(req: TunnelRequest, socket: Socket, head: Buffer, table: RouteTable, route: ReturnType<RouteTable['match']>, mayForce: boolean): void {
    const decision = decideRoute(table, route, req, mayForce);
    applyEdgeHeaders(req, false, overrideSecretHeader(table.config.overrideHeader));
    req.tunnelTarget = decision.pool.pick().url;
    this.hpm.upgrade(req, socket, head);
  }
}
