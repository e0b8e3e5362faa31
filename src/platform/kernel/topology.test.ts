// The topology file and what the kernel does with it: which modules a deployable hosts, where a
// remote one lives (file, then MODULE_<NAME>_URLS), and the bus a split system needs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/env.ts';
import { ServiceUnavailable } from '../errors/domain-error.ts';
import { createApp } from './create-app.ts';
import { checkBusFitsTopology, hostedModules, loadTopology, normalizeAddress, readTopologyFile, resolveTopology, TopologyError } from './topology.ts';
import { fixtureManifests, fixtureSystem } from '../../../test/extraction/fixtures.ts';
import { testKeysEnv } from '../../../test/support/keys.ts';
import { warehouseContract } from '../../../test/fixtures/modules/warehouse/index.ts';
import { busPrefix } from '../../../test/support/redis.ts';
import { redisUrl } from '../../../test/support/databases.ts';

const dir = mkdtempSync(join(tmpdir(), 'topology-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(content: unknown): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('the topology file', () => {
  it('treats a missing file, or a module it does not name, as local', () => {
    const t = loadTopology(loadConfig({ ...testKeysEnv, TOPOLOGY_FILE: join(dir, 'absent.json') }));
    expect(t.state('catalog')).toBe('local');
    expect(t.remote).toEqual([]);
  });

  it('answers a remote module’s instances, and the monolith for every other module', () => {
    const path = file({ monolith: { urls: ['http://mono:3000'] }, modules: { orders: { state: 'remote', urls: ['http://10.0.0.1:3101', 'orders-b:3101'] }, catalog: { state: 'migrating', urls: ['http://cat:3102'] } } });
    const t = loadTopology(loadConfig({ ...testKeysEnv, TOPOLOGY_FILE: path }));
    expect(t.addressesOf('orders')).toEqual(['http://10.0.0.1:3101', 'http://orders-b:3101']);
    expect(t.addressesOf('catalog')).toEqual(['http://mono:3000']);
    expect(t.addressesOf('payments')).toEqual(['http://mono:3000']);
    expect(t.remote).toEqual(['orders']);
  });

  it('lets MODULE_<NAME>_URLS and MONOLITH_URLS override addresses per deployment (a Kubernetes service name is an address)', () => {
    const path = file({ modules: { orders: { state: 'remote', urls: ['http://127.0.0.1:1'] } } });
    const t = loadTopology(loadConfig({ ...testKeysEnv, TOPOLOGY_FILE: path, MODULE_ORDERS_URLS: 'orders-service:3101, http://orders-2:3101/', MONOLITH_URLS: 'monolith' }));
    expect(t.addressesOf('orders')).toEqual(['http://orders-service:3101', 'http://orders-2:3101']);
    expect(t.monolithUrls).toEqual(['http://monolith']);
    expect(normalizeAddress('https://svc.ns.svc.cluster.local:8443/')).toBe('https://svc.ns.svc.cluster.local:8443');
    expect(() => normalizeAddress('ftp://x')).toThrow(TopologyError);
  });

  it('names what is wrong in a bad file', () => {
    expect(() => readTopologyFile(file('{ nope'))).toThrow(/not valid JSON/);
    expect(() => readTopologyFile(file({ modules: { orders: { state: 'gone' } } }))).toThrow(/modules\.orders\.state/);
  });

  it('keeps a remote module out of the monolith, never out of its own service, and demands BullMQ once split', () => {
    const t = resolveTopology({ monolith: { urls: [] }, modules: { warehouse: { state: 'remote', urls: [] }, counter: { state: 'migrating', urls: [] } } }, { moduleUrls: {} });
    const mods = [{ manifest: { name: 'warehouse' } }, { manifest: { name: 'counter' } }];
    expect(hostedModules(mods, t, 'monolith').map((m) => m.manifest.name)).toEqual(['counter']);
    expect(hostedModules(mods.slice(0, 1), t, 'warehouse-service').map((m) => m.manifest.name)).toEqual(['warehouse']);
    expect(() => checkBusFitsTopology(t, 'inprocess', 'monolith')).toThrow(/warehouse, counter also run\(s\) as a service .* BUS=bullmq/);
    expect(() => checkBusFitsTopology(t, 'inprocess', 'warehouse-service')).toThrow(/BUS=bullmq/);
    expect(() => checkBusFitsTopology(t, 'bullmq', 'monolith')).not.toThrow();
  });
});

describe('createApp in a split topology', () => {
  it('does not run a remote module and binds its contract to the remote client', async () => {
    const bus = busPrefix();
    const data = mkdtempSync(join(dir, 'data-'));
    const path = file({ modules: { warehouse: { state: 'remote', urls: ['http://127.0.0.1:9'] } } });
    const config = loadConfig({ ...testKeysEnv, TOPOLOGY_FILE: path, DATA_DIR: data, BUS: 'bullmq', REDIS_URL: redisUrl(), BUS_PREFIX: bus.prefix, LOG_LEVEL: 'silent', REMOTE_RETRIES: '0' });
    const app = await createApp({ config, manifests: fixtureManifests, modules: await Promise.all(['counter', 'warehouse'].map((m) => fixtureSystem.load(m))), deployable: 'monolith' });
    try {
      expect([...app.stores.keys()]).toEqual(['counter']);
      const err = await app.contract(warehouseContract).level({ sku: 'A' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServiceUnavailable);
      expect((err as Error).message).toMatch(/warehouse is unavailable/);
      const metrics = await app.metrics.registry.metrics();
      expect(metrics).toMatch(/contract_breaker_state\{module="warehouse",deployable="monolith"\} 0/);
      expect(metrics).toMatch(/contract_call_duration_seconds_count\{[^}]*binding="remote"[^}]*outcome="unavailable"/);
    } finally {
      await app.stop();
      await bus.cleanup();
    }
  });

  it('refuses to call out without a service key in production', async () => {
    const path = file({ modules: { warehouse: { state: 'remote', urls: ['http://127.0.0.1:9'] } } });
    const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), TOPOLOGY_FILE: path, DATA_DIR: mkdtempSync(join(dir, 'data-')), BUS: 'bullmq', REDIS_URL: redisUrl(), LOG_LEVEL: 'silent' });
    await expect(createApp({ config, manifests: fixtureManifests, modules: [await fixtureSystem.load('counter')], deployable: 'monolith' })).rejects.toThrow(/SERVICE_JWT_SECRET/);
  });
});
