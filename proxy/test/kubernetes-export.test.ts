// `npm run proxy -- export gateway-api` and `export argo-rollouts`: the route table as Kubernetes
// objects that the published schemas accept and kustomize builds, carrying the weights, matches,
// forced side and canary steps and bounds of the same config.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';
import { AnalysisTemplate } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate';
import { tempConfig } from './helpers.ts';

const configPath = tempConfig({
  pools: { monolith: { instances: ['http://127.0.0.1:3000'] }, orders: { instances: ['http://127.0.0.1:3104'] }, payments: { instances: ['http://127.0.0.1:3103'] } },
  routes: [
    {
      name: 'orders',
      prefix: '/api/v1/orders',
      methods: ['GET', 'POST'],
      old: 'monolith',
      new: 'orders',
      weight: 30,
      canary: { steps: [{ weight: 10, dwellMs: 60_000 }, { weight: 50, dwellMs: 120_000 }, { weight: 100, dwellMs: 300_000 }], maxErrorRateIncrease: 0.02, maxP99Ratio: 1.5, p99SlackMs: 5 },
    },
    { name: 'payments', prefix: '/api/v1/accounts', new: 'payments' },
  ],
  overrideSecret: 'k8s-shared-secret-0123',
});

function exported(engine: string): Record<string, any>[] {
  const text = execFileSync(process.execPath, ['proxy/src/main.ts', 'export', engine, '--config', configPath, '--namespace', 'shop', '--gateway', 'edge'], { encoding: 'utf8' });
  return parseAllDocuments(text).map((d) => d.toJSON() as Record<string, any>).filter(Boolean);
}

describe('export gateway-api', () => {
  const docs = exported('gateway-api');

  it('writes HTTPRoutes that the Gateway API schema accepts', () => {
    expect(docs.map((d) => d.metadata.name)).toEqual(['strangler-orders', 'strangler-payments', 'strangler-default']);
    for (const d of docs) expect(() => new HTTPRoute(d as never).validate()).not.toThrow();
  });

  it('carries the weight, the prefix and methods, and the forced side for holders of the secret', () => {
    const orders = docs[0]!;
    expect(orders.metadata.namespace).toBe('shop');
    expect(orders.spec.parentRefs).toEqual([{ name: 'edge' }]);
    const weighted = orders.spec.rules.at(-1);
    expect(weighted.matches).toEqual([
      { path: { type: 'PathPrefix', value: '/api/v1/orders' }, method: 'GET' },
      { path: { type: 'PathPrefix', value: '/api/v1/orders' }, method: 'POST' },
    ]);
    expect(weighted.backendRefs).toEqual([
      { kind: 'Service', name: 'monolith', port: 80, weight: 70 },
      { kind: 'Service', name: 'orders', port: 80, weight: 30 },
    ]);
    const forcedNew = orders.spec.rules[0];
    expect(forcedNew.matches[0].headers).toEqual([
      { type: 'Exact', name: 'x-proxy-side', value: 'new' },
      { type: 'Exact', name: 'x-proxy-side-secret', value: 'k8s-shared-secret-0123' },
    ]);
    expect(forcedNew.backendRefs).toEqual([{ kind: 'Service', name: 'orders', port: 80, weight: 1 }]);
    // A finished route has one backend and no forced side; unmatched paths go to the default pool.
    expect(docs[1]!.spec.rules).toEqual([{ matches: [{ path: { type: 'PathPrefix', value: '/api/v1/accounts' } }], backendRefs: [{ kind: 'Service', name: 'payments', port: 80, weight: 1 }] }]);
    expect(docs[2]!.spec.rules[0].backendRefs).toEqual([{ kind: 'Service', name: 'monolith', port: 80, weight: 1 }]);
  });
});

describe('export argo-rollouts', () => {
  const docs = exported('argo-rollouts');

  it('writes a Rollout and an AnalysisTemplate per route with canary steps, accepted by the Argo Rollouts schemas', () => {
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['Rollout/strangler-orders', 'AnalysisTemplate/strangler-orders']);
    expect(() => new Rollout(docs[0] as never).validate()).not.toThrow();
    expect(() => new AnalysisTemplate(docs[1] as never).validate()).not.toThrow();
  });

  it('walks the config’s steps on the exported HTTPRoute and judges them by its error-rate and p99 bounds', () => {
    const canary = docs[0]!.spec.strategy.canary;
    expect(canary.steps).toEqual([
      { setWeight: 10 }, { pause: { duration: '60s' } },
      { setWeight: 50 }, { pause: { duration: '120s' } },
      { setWeight: 100 }, { pause: { duration: '300s' } },
    ]);
    expect(canary).toMatchObject({ canaryService: 'orders', stableService: 'monolith', trafficRouting: { plugins: { 'argoproj-labs/gatewayAPI': { httpRoute: 'strangler-orders', namespace: 'shop' } } } });
    const [errors, latency] = docs[1]!.spec.metrics;
    expect(errors.successCondition).toBe('result[0] <= 0.02');
    expect(errors.provider.prometheus.query).toContain('http_requests_total{service="orders",route=~"/api/v1/orders(/.*)?",status=~"5.."}');
    expect(errors.provider.prometheus.query).toContain('http_requests_total{service="monolith",route=~"/api/v1/orders(/.*)?"}');
    expect(latency.provider.prometheus.query).toMatch(/http_request_duration_seconds_bucket\{service="orders".*\* 1\.5 \+ 0\.005\)$/);
  });
});

describe('kustomize', () => {
  it('builds the exported objects', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strangler-k8s-'));
    for (const engine of ['gateway-api', 'argo-rollouts']) {
      writeFileSync(join(dir, `${engine}.yaml`), execFileSync(process.execPath, ['proxy/src/main.ts', 'export', engine, '--config', configPath], { encoding: 'utf8' }));
    }
    writeFileSync(join(dir, 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gateway-api.yaml\n  - argo-rollouts.yaml\n');
    const built = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    if (built.error) throw new Error(`kubectl is needed for this test (${built.error.message}): install kubectl`);
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
    expect(built.stdout).toContain('kind: HTTPRoute');
    expect(built.stdout).toContain('kind: Rollout');
    expect(built.stdout).toContain('kind: AnalysisTemplate');
  });
});

describe('with the deploy manifests', () => {
  it('routes to the Services the deploy manifests define, and kustomize builds them together', () => {
    const root = resolve(import.meta.dirname, '../..');
    // The deployed route table names in-cluster addresses (http://monolith:3000); one module on its way out.
    const deployed = JSON.parse(readFileSync(join(root, 'deploy/system/proxy/config.json'), 'utf8'));
    const dir = mkdtempSync(join(tmpdir(), 'strangler-k8s-deploy-'));
    // A copy of the deploy folder with the example secrets in place of the real ones (never committed).
    cpSync(join(root, 'deploy'), join(dir, 'deploy'), { recursive: true });
    writeFileSync(join(dir, 'deploy/system/secrets.env'), readFileSync(join(root, 'deploy/system/secrets.example.env')));
    const configFile = join(dir, 'routes.json');
    writeFileSync(configFile, JSON.stringify({ ...deployed, routes: [{ name: 'products', prefix: '/api/v1/products', old: 'monolith', new: 'monolith', weight: 0 }] }));
    writeFileSync(join(dir, 'httproutes.yaml'), execFileSync(process.execPath, ['proxy/src/main.ts', 'export', 'gateway-api', '--config', configFile], { encoding: 'utf8' }));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deploy/kubernetes/postgres\n  - httproutes.yaml\n',
    );
    const built = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    if (built.error) throw new Error(`kubectl is needed for this test (${built.error.message}): install kubectl`);
    expect(built.status, built.stderr).toBe(0);
    const objects = parseAllDocuments(built.stdout).map((d) => d.toJSON() as Record<string, any>);
    const services = new Map(objects.filter((o) => o.kind === 'Service').map((o) => [o.metadata.name, (o.spec.ports as { port: number }[]).map((p) => p.port)]));
    const routes = objects.filter((o) => o.kind === 'HTTPRoute');
    expect(routes.length).toBe(2);
    for (const route of routes) {
      for (const rule of route.spec.rules) {
        for (const ref of rule.backendRefs) expect(services.get(ref.name), `${ref.name}:${ref.port}`).toContain(ref.port);
      }
    }
  });
});
