// JSON lines on stdout, each stamped with the ids of the request or message being handled and of
// the active trace span (trace_id, span_id: what a tracing backend finds the line by); secrets
// and card data are censored wherever they appear.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { currentContext } from '../context/request-context.ts';
import { currentTraceIds } from '../observability/trace-context.ts';

export type { Logger } from 'pino';

const redactPaths = [
  'password', '*.password', 'token', '*.token', 'secret', '*.secret',
  'authorization', '*.authorization', 'req.headers.authorization', 'headers.authorization',
  'cardNumber', '*.cardNumber', 'card', '*.card', 'cvc', '*.cvc',
];

/** Logs to stdout unless a destination is given (tests). */
export function createLogger(level: string, base: Record<string, unknown> = {}, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const ctx = currentContext();
      const ids = currentTraceIds();
      if (!ctx) return ids ?? {};
      return { requestId: ctx.requestId, correlationId: ctx.correlationId, ...ids };
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
