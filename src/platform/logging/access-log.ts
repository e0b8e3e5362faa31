// The line each request leaves in the log: the same JSON pino writes for
// `logger.info({ method, path, status, ms }, 'request')` inside the request's context (level, time,
// the logger's bindings, requestId, correlationId, trace_id, span_id, the fields, msg), put together
// from what the edge already holds and written to the logger's own destination. Going through pino
// cost, per request, its mixin reading the context, redaction of fields that are never secrets, and
// serialising an object whose shape never changes; the destination (and so the buffering and the
// flush on exit, logger.ts) is the same.
import { pino, type Logger } from 'pino';

export interface AccessEntry {
  requestId: string;
  correlationId: string;
  /** The request's span, when it has one (absent for probes and scrapes). */
  traceId?: string;
  spanId?: string;
  method: string;
  path: string;
  status: number;
  /** Milliseconds, one decimal. */
  ms: number;
}

interface Destination {
  write(line: string): unknown;
}

export class AccessLog {
  private readonly destination: Destination;
  /** How the logger opens an info line, as pino built it: `{"level":"info"`. */
  private readonly opening: string;
  /** The logger's bindings (`base`, a child's fields) as pino serialised them: `,"deployable":"monolith"`. */
  private readonly bindings: string;
  /** The logger's time field; undefined when it is pino's isoTime, which is cached here per millisecond. */
  private readonly time: (() => string) | undefined;
  /** pino's multistream wants each line's level beside it: such a destination gets lines through pino. */
  private readonly throughPino: boolean;
  // pino's isoTime asks the clock for a new Date per line; several lines share a millisecond under load.
  private lastMs = -1;
  private lastIso = '';

  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
    const l = logger as unknown as Record<symbol, unknown>;
    this.destination = l[pino.symbols.streamSym] as Destination;
    this.opening = (l[pino.symbols.lsCacheSym] as Record<number, string>)[30]!;
    this.bindings = (l[pino.symbols.chindingsSym] as string | undefined) ?? '';
    const time = l[pino.symbols.timeSym] as () => string;
    this.time = time === pino.stdTimeFunctions.isoTime ? undefined : time;
    this.throughPino = (this.destination as unknown as Record<symbol, unknown>)[pino.symbols.needsMetadataGsym] === true;
  }

  get enabled(): boolean {
    return this.logger.isLevelEnabled('info');
  }

  write(e: AccessEntry): void {
    if (!this.enabled) return;
    if (this.throughPino) {
      const { requestId, correlationId, traceId, spanId, ...fields } = e;
      this.logger.info({ requestId, correlationId, trace_id: traceId, span_id: spanId, ...fields }, 'request');
      return;
    }
    let time: string;
    if (this.time) time = this.time();
    else {
      const now = Date.now();
      if (now !== this.lastMs) {
        this.lastMs = now;
        this.lastIso = `,"time":"${new Date(now).toISOString()}"`;
      }
      time = this.lastIso;
    }
    const trace = e.traceId === undefined ? '' : `,"trace_id":"${e.traceId}","span_id":"${e.spanId}"`;
    // Ids are checked at the edge (letters, digits, ._:-) or generated; method is an HTTP token; the
    // path is the client's and goes through JSON.stringify like any string pino writes.
    this.destination.write(
      `${this.opening}${time}${this.bindings},"requestId":"${e.requestId}","correlationId":"${e.correlationId}"${trace},"method":"${e.method}","path":${JSON.stringify(e.path)},"status":${e.status},"ms":${e.ms},"msg":"request"}\n`,
    );
  }
}
