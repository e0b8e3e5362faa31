// The commerce suite with every module in one process, on both engines.
import { bootApp, engines } from '../support/boot.ts';
import { commerceSuite } from './commerce.suite.ts';
import { domainTestEnv } from './commerce-world.ts';


for (const engine of engines) {
  commerceSuite(`commerce, all in one process, on ${engine}`, async () => {
    const t = await bootApp({ engine, env: domainTestEnv });
    return { baseUrl: t.baseUrl, token: t.token, close: t.close };
  });
}
