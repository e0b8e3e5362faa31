import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { BUFFER_BYTES, createLogger } from './logger.ts';
import { LineBuffer } from './line-buffer.ts';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { runWithContext } from '../context/request-context.ts';

describe('structured logs', () => {
  it('stamps every line of a request with its ids and the active span’s trace and span ids, and censors secrets and card data', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { deployable: 'test' }, { write: (l: string) => lines.push(l) });
    const span = trace.wrapSpanContext({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED });
    context.with(trace.setSpan(context.active(), span), () =>
      runWithContext({ requestId: 'req-1', correlationId: 'corr-1' }, () => {
        logger.info({ headers: { authorization: 'Bearer abc' }, payment: { cardNumber: '4111111111111111' } }, 'charging');
        logger.child({ module: 'payments' }).warn('retrying');
      }),
    );
    logger.info('outside any request');
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed[0]).toMatchObject({ level: 'info', deployable: 'test', requestId: 'req-1', correlationId: 'corr-1', msg: 'charging' });
    expect(parsed[0]).toMatchObject({ trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' });
    expect(parsed[0].traceparent).toBeUndefined();
    expect(parsed[1]).toMatchObject({ level: 'warn', module: 'payments', requestId: 'req-1' });
    expect(parsed[2].requestId).toBeUndefined();
    expect(parsed[2].trace_id).toBeUndefined();
    expect(lines.join('\n')).not.toMatch(/abc|4111/);
    expect(parsed[0].headers.authorization).toBe('[redacted]');
    expect(parsed[0].payment.cardNumber).toBe('[redacted]');
  });

  it('writes to stdout through the line buffer (sonic-boom’s own buffering measured its whole buffer on every line)', () => {
    const stream = (createLogger('info') as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
    expect(stream).toBeInstanceOf(LineBuffer);
  });

  // Lines sit in a buffer until it holds BUFFER_BYTES or the next periodic flush: a process that
  // dies first must still write every line it logged.
  for (const end of ['throw', 'exit'] as const) {
    it(`writes every buffered line before the process ends (${end === 'throw' ? 'an uncaught exception' : 'process.exit'})`, () => {
      const lines = 3 + Math.ceil(BUFFER_BYTES / 100); // over a buffer's worth (lines are over 100 bytes): the last ones still buffered
      const child = spawnSync(process.execPath, [join(import.meta.dirname, 'fixtures/log-then-fail.ts'), end], { env: { ...process.env, LINES: String(lines) }, encoding: 'utf8' });
      expect(child.status).toBe(end === 'throw' ? 1 : 3);
      if (end === 'throw') expect(child.stderr).toMatch(/fatal on purpose/);
      const logged = child.stdout.trim().split('\n').map((l) => JSON.parse(l) as { i: number });
      expect(logged.map((l) => l.i)).toEqual(Array.from({ length: lines }, (_, i) => i));
    });
  }
});
