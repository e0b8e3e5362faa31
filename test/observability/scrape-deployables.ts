// Boots one of each deployable the way it runs in production — the monolith with every module,
// an extracted service (payments) and the strangler proxy in front of both — sends a little
// traffic through them so labelled series exist, and returns what each one's /metrics says.
import { bootApp, prepareStore } from '../support/boot.ts';
import { testKeysEnv } from '../support/keys.ts';
import { redisUrl } from '../support/databases.ts';
import { busPrefix } from '../support/redis.ts';
import { loadDeployableConfig } from '../../src/platform/config/settings.ts';
import { createApp } from '../../src/platform/kernel/create-app.ts';
import { serviceDeployable } from '../../src/platform/kernel/bootstrap.ts';
import { loadAll } from '../../src/platform/modules/system.ts';
import { system } from '../../src/composition-root.ts';
import { manifests } from '../../src/manifests.ts';
import { proxyWith } from '../../proxy/test/helpers.ts';

export interface Scrape {
  deployable: string;
  text: string;
}

export async function scrapeEveryDeployable(): Promise<Scrape[]> {
  const stops: (() => Promise<void>)[] = [];
  try {
    const monolith = await bootApp({ engine: 'sqlite' });
    stops.push(() => monolith.close());
    const auth = { authorization: `Bearer ${await monolith.token('metrics-reader')}` };

    const modules = await loadAll(system, ['payments']);
    const store = await prepareStore('sqlite', modules.map((m) => m.schema));
    // Apart from the monolith a module meets the others through Redis, as in production.
    const bus = busPrefix();
    stops.push(() => bus.cleanup());
    const { config, settings } = loadDeployableConfig(modules, {
      LOG_LEVEL: 'silent',
      SEED: 'false',
      NODE_ENV: 'test',
      BUS: 'bullmq',
      REDIS_URL: redisUrl(),
      BUS_PREFIX: bus.prefix,
      ...testKeysEnv,
      ...store.env,
    });
    const service = await createApp({ config, settings, manifests, modules, deployable: serviceDeployable('payments') });
    const { port, internalPort } = await service.listen({ port: 0, host: '127.0.0.1' });
    stops.push(async () => {
      await service.stop();
      await store.cleanup();
    });
    const serviceUrl = `http://127.0.0.1:${port}`;
    const serviceInternalUrl = `http://127.0.0.1:${internalPort}`;

    const proxy = await proxyWith({
      pools: { monolith: { instances: [monolith.baseUrl] }, payments: { instances: [serviceUrl] } },
      routes: [{ name: 'accounts', prefix: '/api/v1/accounts', old: 'monolith', new: 'payments', weight: 50 }],
    });
    stops.push(() => proxy.close());

    for (const base of [monolith.baseUrl, serviceUrl, proxy.url]) {
      for (const path of ['/api/v1/accounts/me', '/api/v1/products', '/health/ready']) {
        await (await fetch(`${base}${path}`, { headers: auth })).arrayBuffer();
      }
    }
    const scrape = async (deployable: string, url: string) => ({ deployable, text: await (await fetch(url)).text() });
    return [
      await scrape('monolith', `${monolith.internalUrl}/metrics`),
      await scrape('payments-service', `${serviceInternalUrl}/metrics`),
      // The proxy serves /metrics on its internal listener where it has one, else on its only one.
      await scrape('proxy', `${(proxy as { internalUrl?: string }).internalUrl ?? proxy.url}/metrics`),
    ];
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

/** Metric names a scrape exports, with the series names a histogram or summary adds (`_bucket`, `_sum`, `_count`). */
export function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) (\w+)/.exec(line);
    if (!m) continue;
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(`${name}${s}`);
  }
  return names;
}
