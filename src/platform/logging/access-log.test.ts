// The access line is put together by hand: it must be the line pino itself writes for the same
// request, field for field and in the same order, so nothing reading the logs can tell them apart.
import { describe, expect, it } from 'vitest';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { runWithContext } from '../context/request-context.ts';
import { createLogger } from './logger.ts';
import { AccessLog } from './access-log.ts';

const time = (line: string) => line.replace(/"time":"[^"]+"/, '"time":"T"');

describe('the access log', () => {
  const ids = { requestId: 'req-1', correlationId: 'corr-1' };
  const fields = { method: 'GET', path: '/api/v1/products/MUG "odd"\\path?q=ü', status: 200, ms: 1.3 };

  it('writes the line pino writes for logger.info({ method, path, status, ms }, "request") in the request’s context', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { deployable: 'monolith' }, { write: (l: string) => lines.push(l) });
    const span = trace.wrapSpanContext({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED });
    context.with(trace.setSpan(context.active(), span), () => runWithContext(ids, () => logger.info(fields, 'request')));
    new AccessLog(logger).write({ ...ids, traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', ...fields });
    expect(lines).toHaveLength(2);
    expect(time(lines[1]!)).toBe(time(lines[0]!));
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'info', deployable: 'monolith', requestId: 'req-1', trace_id: '0af7651916cd43dd8448eb211c80319c', path: fields.path, msg: 'request' });
    expect(new Date(JSON.parse(lines[1]!).time).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('leaves the trace ids out when the request has no span, as pino’s mixin does', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { deployable: 'monolith' }, { write: (l: string) => lines.push(l) });
    runWithContext(ids, () => logger.info(fields, 'request'));
    new AccessLog(logger).write({ ...ids, ...fields });
    expect(time(lines[1]!)).toBe(time(lines[0]!));
  });

  it('follows the logger’s level: nothing at warn', () => {
    const lines: string[] = [];
    const logger = createLogger('warn', {}, { write: (l: string) => lines.push(l) });
    const log = new AccessLog(logger);
    log.write({ ...ids, ...fields });
    expect(lines).toEqual([]);
    logger.level = 'info';
    log.write({ ...ids, ...fields });
    expect(lines).toHaveLength(1);
  });
});
