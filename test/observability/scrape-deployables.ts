// Boots one of each deployable the way it runs in production — the monolith with every module,
// an extracted service (payments) and the strangler proxy in front of both — sends a little
// traffic through them so labelled series exist, and returns what each one's /metrics says.
import { bootApp, prepareStore } from '../support/boot.ts';
import { loadConfig } from '../../src/platform/config/env.ts';
import { createServiceApp } from '../../src/platform/kernel/topology-service.ts';
import { manifests } from '../../src/manifests.ts';
import { loadModules } from '../../src/composition-root.ts';
import { proxyWith } from '../../proxy/test/helpers.ts';
import { redisUrl } from '../support/databases.ts';
import { busPrefix } from '../support/redis.ts';

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

    const [payments] = await loadModules(['payments']);
    const store = await prepareStore('sqlite', [payments!.schema]);
    // Apart from the monolith a module meets the others through Redis, as in production.
    const bus = busPrefix();
    stops.push(() => bus.cleanup());
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      SEED: 'false',
      NODE_ENV: 'test',
      JWT_SECRET: monolith.config.jwtSecret,
      BUS: 'bullmq',
      REDIS_URL: redisUrl(),
      BUS_PREFIX: bus.prefix,
      ...store.env,
    });
    const service = await createServiceApp({ config, module: 'payments', manifests, load: async () => payments! });
    const { port } = await service.listen(0, '127.0.0.1');
    stops.push(async () => {
      await service.stop();
      await store.cleanup();
    });
    const serviceUrl = `http://127.0.0.1:${port}`;

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
      await scrape('monolith', `${monolith.baseUrl}/metrics`),
      await scrape('payments-service', `${serviceUrl}/metrics`),
      await scrape('proxy', `${proxy.url}/metrics`),
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
