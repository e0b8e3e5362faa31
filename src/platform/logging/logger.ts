// JSON lines on stdout, each stamped with the ids of the request or message being handled and of
// the active trace span (trace_id, span_id: what a tracing backend finds the line by); secrets
// and card data are censored wherever they appear.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { currentContext } from '../context/request-context.ts';
import { currentTraceIds } from '../observability/trace-context.ts';
import { LineBuffer } from './line-buffer.ts';

export type { Logger } from 'pino';

const redactPaths = [
  'password', '*.password', 'token', '*.token', 'secret', '*.secret',
  'authorization', '*.authorization', 'req.headers.authorization', 'headers.authorization',
  'cardNumber', '*.cardNumber', 'card', '*.card', 'cvc', '*.cvc',
];

/**
 * Log lines gather in memory and reach stdout in one write once they hold this many characters (or
 * every FLUSH_EVERY_MS, whichever comes first): at info level, a write per request line was a
 * tenth of the kernel's time under load. The writes stay synchronous, so lines leave in the order
 * they were logged. What is buffered is written out when the process exits — process.exit, the
 * end of the event loop, an uncaught exception (all emit 'exit') — so a crash loses nothing; a
 * `kill -9` (or an OS crash) loses the lines of at most the last FLUSH_EVERY_MS, never more than
 * BUFFER_BYTES characters (as many bytes for ASCII, which JSON lines nearly always are).
 */
export const BUFFER_BYTES = 4096;
export const FLUSH_EVERY_MS = 100;

/** Stdout, buffered as BUFFER_BYTES says; one per process. */
let bufferedStdout: DestinationStream | undefined;
function stdout(): DestinationStream {
  if (!bufferedStdout) {
    // Synchronous: with asynchronous writes, the flush at exit wrote the last lines before the
    // ones still being written (logger.test.ts caught it).
    // The chunks are gathered in front of sonic-boom (line-buffer.ts says why), which writes each
    // one as it gets it.
    const stream = new LineBuffer(pino.destination({ dest: 1, sync: true, minLength: 0 }), BUFFER_BYTES, FLUSH_EVERY_MS);
    process.on('exit', () => stream.flushSync());
    bufferedStdout = stream;
  }
  return bufferedStdout;
}

/** Logs to stdout (buffered, see BUFFER_BYTES) unless a destination is given (tests). */
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
  return pino(options, destination ?? stdout());
}
