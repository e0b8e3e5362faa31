// The forwarding pipeline of a plain HTTP request: match a route, pass the gate (only requests that
// need a token check, a forced-side check or a rate limit), decide the side, set the edge headers,
// and hand the request to an Exchange that carries it to an upstream and back. Bodies are streamed,
// never parsed.
import type http from 'node:http';
import type { RouteTable, CompiledRoute } from './route-table.ts';
import { overrideSecretHeader, type Gate } from './gate.ts';
import { decideRoute } from './route-decision.ts';
import { applyEdgeHeaders } from './edge-headers.ts';
import { Exchange, isEncrypted, type ExchangeDeps, type ExchangeRequest } from './exchange.ts';
import { sendProblem } from './problem.ts';
import { traceRequest } from './request-trace.ts';

export class Forwarder {
  private readonly deps: ExchangeDeps;
  private readonly gate: Gate;

  constructor(deps: ExchangeDeps, gate: Gate) {
    this.deps = deps;
    this.gate = gate;
  }

  /** Handles one client request (everything but the proxy's own endpoints). */
  handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const trace = traceRequest(req);
    if (trace) {
      (req as ExchangeRequest).trace = trace;
      res.once('close', () => trace.end(res.statusCode));
    }
    const table = this.deps.table();
    const route = table.match(req.method ?? 'GET', req.url ?? '/');
    if (this.gate.needed(table, route, req)) {
      void this.gated(req, res, table, route);
      return;
    }
    this.forward(req, res, table, route, false);
  }

  private async gated(req: http.IncomingMessage, res: http.ServerResponse, table: RouteTable, route: CompiledRoute | undefined): Promise<void> {
    try {
      const admission = await this.gate.admit(req, table, route);
      if (admission.refusal) {
        const { status, code, detail, headers } = admission.refusal;
        return sendProblem(res, status, code, detail, headers);
      }
      this.forward(req, res, table, route, admission.mayForce);
    } catch (err) {
      // Nothing a request sends may take the process down: whatever went wrong is answered.
      this.deps.log.error({ err, url: req.url }, 'request failed in the gate');
      sendProblem(res, 500, 'InternalError', 'the proxy could not handle this request');
    }
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, table: RouteTable, route: CompiledRoute | undefined, mayForce: boolean): void {
    const decision = decideRoute(table, route, req, mayForce);
    (req as ExchangeRequest).trace?.routed({ route: decision.routeName, prefix: route?.config.prefix, side: decision.side, weight: route?.config.weight, pool: decision.pool.name, forced: decision.forced });
    const requestId = applyEdgeHeaders(req, isEncrypted(req), overrideSecretHeader(table.config.overrideHeader));
    new Exchange(this.deps, decision, req, res, requestId).begin();
  }
}
