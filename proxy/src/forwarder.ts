// The forwarding pipeline of a plain HTTP request: match a route, pass the gate (only routes that
// ask for auth or a rate limit), decide the side, set the edge headers, and hand the request to an
// Exchange that carries it to an upstream and back. Bodies are streamed, never parsed.
import type http from 'node:http';
import type { RouteTable, CompiledRoute } from './route-table.ts';
import type { Gate, Refusal } from './gate.ts';
import { decideRoute } from './route-decision.ts';
import { applyEdgeHeaders } from './edge-headers.ts';
import { Exchange, isEncrypted, type ExchangeDeps } from './exchange.ts';
import { sendProblem } from './problem.ts';

export class Forwarder {
  private readonly deps: ExchangeDeps;
  private readonly gate: Gate;

  constructor(deps: ExchangeDeps, gate: Gate) {
    this.deps = deps;
    this.gate = gate;
  }

  /** Handles one client request (everything but the proxy's own endpoints). */
  handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const table = this.deps.table();
    const route = table.match(req.method ?? 'GET', req.url ?? '/');
    if (this.gate.needed(table, route)) {
      void this.gated(req, res, table, route);
      return;
    }
    this.forward(req, res, table, route);
  }

  private async gated(req: http.IncomingMessage, res: http.ServerResponse, table: RouteTable, route: CompiledRoute | undefined): Promise<void> {
    const refusal = await this.gate.admit(req, table, route);
    if (refusal) return refuse(res, refusal);
    this.forward(req, res, table, route);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, table: RouteTable, route: CompiledRoute | undefined): void {
    const decision = decideRoute(table, route, req, true);
    const requestId = applyEdgeHeaders(req, isEncrypted(req));
    new Exchange(this.deps, decision, req, res, requestId).begin();
  }
}

function refuse(res: http.ServerResponse, refusal: Refusal): void {
  sendProblem(res, refusal.status, refusal.title, refusal.detail, refusal.headers);
}
