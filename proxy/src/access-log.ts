// One JSON line per request (pino, the app's field names): time, request id, trace id, method,
// path, route, side, status and duration. Written through an asynchronous pino destination that
// buffers lines and writes them in batches off the request's path, and is flushed when the
// process exits. The level is configurable (info, or debug to keep it out of an info log) or off.
import type { ServerResponse } from 'node:http';
import { pino, type Logger } from 'pino';
import type { ExchangeRequest } from './exchange.ts';
import { DEFAULT_ROUTE } from './route-decision.ts';

export type AccessLogLevel = 'info' | 'debug' | 'off';

/** When the request arrived (performance.now()), set by the server as it takes the request. */
export type TimedRequest = ExchangeRequest & { receivedAt?: number };

const TRACE_ID = /^00-([0-9a-f]{32})-/;

export class AccessLog {
  private readonly logger: Logger;
  private readonly level: 'info' | 'debug';
  private readonly destination: ReturnType<typeof pino.destination> | undefined;
  /** `res.on('finish', log.onFinish)`: one shared listener, nothing allocated per request. */
  readonly onFinish: (this: ServerResponse) => void;

  /** `logger`: where to write (tests); default a buffered destination on stdout at `logLevel`. */
  constructor(level: 'info' | 'debug', logLevel: string, logger?: Logger) {
    this.level = level;
    if (logger) this.logger = logger;
    else {
      this.destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
      this.logger = pino({ level: logLevel, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, this.destination);
    }
    const log = this;
    this.onFinish = function (this: ServerResponse) {
      log.record(this);
    };
  }

  record(res: ServerResponse): void {
    const req = res.req as TimedRequest;
    const exchange = req.exchange;
    const trace = typeof req.headers.traceparent === 'string' ? TRACE_ID.exec(req.headers.traceparent)?.[1] : undefined;
    this.logger[this.level](
      {
        requestId: req.headers['x-request-id'],
        traceId: trace,
        method: req.method,
        path: req.url,
        route: exchange?.routeName ?? DEFAULT_ROUTE,
        side: exchange?.side,
        status: res.statusCode,
        ms: req.receivedAt === undefined ? undefined : Math.round((performance.now() - req.receivedAt) * 10) / 10,
      },
      'request',
    );
  }

  /** Writes what is buffered (at close, and on the way out of the process). */
  flush(): void {
    try {
      this.destination?.flushSync();
    } catch {
      // not open yet, or already closed: nothing buffered to lose
    }
  }
}

export function createAccessLog(level: AccessLogLevel, logLevel: string, logger?: Logger): AccessLog | undefined {
  if (level === 'off') return undefined;
  const log = new AccessLog(level, logLevel, logger);
  process.once('exit', () => log.flush());
  return log;
}
