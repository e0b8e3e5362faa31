// The commerce suite with every module in one process, on both engines.
import { bootApp, engines } from '../support/boot.ts';
import { commerceSuite } from './commerce.suite.ts';

/** Short provider timeouts keep the failure paths quick; a lenient breaker keeps them independent. */
export const domainTestEnv = { PAYMENT_TIMEOUT_MS: '150', PAYMENT_SLOW_MS: '1000', PAYMENT_BREAKER_THRESHOLD: '1000', SAGA_POLL_MS: '50', SAGA_RETRY_DELAY_MS: '50', BUS_POLL_MS: '100' };

for (const engine of engines) {
  commerceSuite(`commerce, all in one process, on ${engine}`, async () => {
    const t = await bootApp({ engine, env: domainTestEnv });
    return { baseUrl: t.baseUrl, token: t.token, close: t.close };
  });
}
