import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { runWithContext } from '../context/request-context.ts';

describe('structured logs', () => {
  it('stamps every line of a request with its ids and censors secrets and card data', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { deployable: 'test' }, { write: (l: string) => lines.push(l) });
    runWithContext({ requestId: 'req-1', correlationId: 'corr-1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }, () => {
      logger.info({ headers: { authorization: 'Bearer abc' }, payment: { cardNumber: '4111111111111111' } }, 'charging');
      logger.child({ module: 'payments' }).warn('retrying');
    });
    logger.info('outside any request');
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed[0]).toMatchObject({ level: 'info', deployable: 'test', requestId: 'req-1', correlationId: 'corr-1', msg: 'charging' });
    expect(parsed[0].traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c/);
    expect(parsed[1]).toMatchObject({ level: 'warn', module: 'payments', requestId: 'req-1' });
    expect(parsed[2].requestId).toBeUndefined();
    expect(lines.join('\n')).not.toMatch(/abc|4111/);
    expect(parsed[0].headers.authorization).toBe('[redacted]');
    expect(parsed[0].payment.cardNumber).toBe('[redacted]');
  });
});
