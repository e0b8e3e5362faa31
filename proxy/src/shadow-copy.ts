// A shadow copy of one request: the same request sent to the other side, whose answer is compared
// with the one the user got. It runs beside the exchange and never delays it; the comparison is
// made once both answers are in and lands in the shadow report and the metrics.
import type http from 'node:http';
import type { UpstreamAgents } from './upstream-agents.ts';
import type { UpstreamPool } from './upstream-pool.ts';
import type { ProxyMetrics } from './metrics.ts';
import type { Side } from './side-assignment.ts';
import { compareAnswers, type Answer, type ShadowReport } from './shadow-compare.ts';

/** The most of each answer kept for the comparison. */
const MAX_SHADOW_BODY = 1_048_576;

/**
 * Keeps the first MAX_SHADOW_BODY bytes of an answer, cut at exactly that byte: whole chunks would
 * leave prefixes of different lengths on the two sides (their clients split an answer differently),
 * and equal large answers would be reported as differing. Returns the bytes seen so far.
 */
function keepPrefix(chunks: Buffer[], seen: number, chunk: Buffer): number {
  const room = MAX_SHADOW_BODY - seen;
  if (room > 0) chunks.push(room >= chunk.length ? chunk : chunk.subarray(0, room));
  return seen + chunk.length;
}

export interface ShadowDeps {
  agents: UpstreamAgents;
  metrics: ProxyMetrics;
  shadowReport: ShadowReport;
}

export class ShadowCopy {
  /** The side the copy went to. */
  readonly side: Side;
  private readonly answer: Promise<Answer | Error>;
  private readonly ignore: readonly string[];
  /** The primary answer's first bytes, kept from the moment its head is written. */
  private primary: Buffer[] | undefined;
  private kept = 0;

  constructor(deps: ShadowDeps, req: http.IncomingMessage, pool: UpstreamPool, primarySide: Side, body: Buffer | undefined, ignore: readonly string[], timeoutMs: number) {
    this.side = primarySide === 'new' ? 'old' : 'new';
    this.ignore = ignore;
    const inst = pool.pick();
    const headers = { ...req.headers, 'x-proxy-shadow': '1' };
    delete headers.connection;
    this.answer = new Promise((resolve) => {
      const out = deps.agents.request(new URL(req.url ?? '/', inst.url), { method: req.method, headers, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => (size = keepPrefix(chunks, size, c)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => resolve(e));
      });
      out.on('timeout', () => out.destroy(new Error('shadow request timed out')));
      out.on('error', (e) => resolve(e));
      out.end(body);
    });
  }

  /** The primary answer's head went to the client: keep its body from here. */
  startKeeping(): void {
    this.primary = [];
    this.kept = 0;
  }

  keep(chunk: Buffer): void {
    if (this.primary) this.kept = keepPrefix(this.primary, this.kept, chunk);
  }

  /** Compares once the copy's answer is in, and records the result. */
  compare(deps: ShadowDeps, routeName: string, primarySide: Side, method: string, url: string, status: number): void {
    // After a fallback the primary answer came from the copy's side: nothing to compare.
    if (primarySide === this.side) return;
    const primary = { status, body: Buffer.concat(this.primary ?? []).toString('utf8') };
    const { side, ignore } = this;
    void this.answer.then((shadow) => {
      const { metrics, shadowReport } = deps;
      if (shadow instanceof Error) {
        metrics.shadow.labels(routeName, 'error').inc();
        shadowReport.recordError(routeName);
        return;
      }
      const cmp = compareAnswers(primary, shadow, ignore);
      metrics.shadow.labels(routeName, cmp.match ? 'match' : 'mismatch').inc();
      shadowReport.record(
        routeName,
        cmp.match,
        cmp.match
          ? undefined
          : {
              at: new Date().toISOString(),
              route: routeName,
              method,
              url,
              reason: cmp.reason ?? 'differs',
              primary: { side: primarySide, ...primary },
              shadow: { side, ...shadow },
            },
      );
    });
  }
}

/** Whether this request gets a shadow copy: the route mirrors its method, and the dice say so. */
export function wantsShadow(shadow: { percent: number; methods: readonly string[] } | undefined, method: string): boolean {
  return shadow !== undefined && shadow.percent > 0 && shadow.methods.includes(method) && Math.random() * 100 < shadow.percent;
}
