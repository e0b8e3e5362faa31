// The deploy folder a cluster and a compose host are given: built with `kubectl kustomize` (both
// overlays, payments extracted), every object checked against the Kubernetes API schemas
// (kubernetes-models), what a cluster operator expects of each workload, the configuration's
// every key documented, the compose file's structure, and the committed folder being exactly what
// the generator writes for the committed topology.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { repoRoot } from '../support/processes.ts';
import { manifests } from '../../src/manifests.ts';
import { readTopologyFile } from '../../src/platform/kernel/topology.ts';
import { runExtract } from '../../scripts/extract-core.ts';
import { deployFiles } from '../../scripts/deploy/deploy-files.ts';

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec?: Record<string, any>; data?: Record<string, string> };

const models: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

const project = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
let dir: string;
let deploy: string;
const built: Record<'sqlite' | 'postgres', K8sObject[]> = { sqlite: [], postgres: [] };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'manifests-'));
  deploy = join(dir, 'deploy');
  writeFileSync(join(dir, 'topology.json'), readFileSync(join(repoRoot, 'topology.json')));
  writeFileSync(join(dir, 'proxy.json'), readFileSync(join(repoRoot, 'proxy/config.json')));
  const r = await runExtract({
    module: 'payments',
    action: 'extract',
    root: repoRoot,
    topologyFile: join(dir, 'topology.json'),
    proxyConfig: join(dir, 'proxy.json'),
    deployDir: deploy,
    manifests,
    env: {},
    log: () => {},
    boundaryFindings: async () => [],
    // The manifests do not depend on the bundle; the bundle has tests of its own.
    bundle: async () => new Map(),
  });
  expect(r.exitCode).toBe(0);
  for (const variant of ['sqlite', 'postgres'] as const) {
    let text: string;
    try {
      text = execFileSync('kubectl', ['kustomize', join(deploy, 'kubernetes', variant)], { encoding: 'utf8' });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      throw new Error(e.code === 'ENOENT' ? 'kubectl is not installed: these tests build the overlays with `kubectl kustomize` (install kubectl)' : `kubectl kustomize failed: ${e.stderr ?? e.message}`);
    }
    built[variant] = parseAllDocuments(text).map((d) => d.toJSON() as K8sObject);
  }
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const workloads = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');

describe.each(['sqlite', 'postgres'] as const)('kubectl kustomize deploy/kubernetes/%s', (variant) => {
  it('builds, and every object is valid against the Kubernetes API schema of its kind', () => {
    const objects = built[variant];
    expect(objects.map((o) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`).sort()).toEqual(
      [
        'ConfigMap/proxy-routes', 'ConfigMap/system-settings', 'ConfigMap/system-topology', 'Secret/system-secrets',
        ...['monolith', 'payments-service', 'proxy'].flatMap((n) => [`PodDisruptionBudget/${n}`, `Service/${n}`]),
        `${variant === 'sqlite' ? 'StatefulSet' : 'Deployment'}/monolith`,
        `${variant === 'sqlite' ? 'StatefulSet' : 'Deployment'}/payments-service`,
        'Deployment/proxy',
      ].sort(),
    );
    for (const o of objects) {
      const Model = models[`${o.apiVersion}/${o.kind}`];
      expect(Model, `${o.apiVersion} ${o.kind}`).toBeDefined();
      expect(() => new Model!(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
  });

  it('runs every pod non-root on a read-only root filesystem, with probes, a preStop pause, resources and scrape annotations on the internal port', () => {
    for (const w of workloads(built[variant])) {
      const pod = w.spec!.template;
      const where = `${w.kind}/${w.metadata.name}`;
      expect(pod.spec.securityContext, where).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      const internal = pod.spec.containers[0].ports.find((p: { name: string }) => p.name === 'internal').containerPort;
      expect(pod.metadata.annotations, where).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(internal), 'prometheus.io/path': '/metrics' });
      for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
        expect(c.securityContext, `${where} ${c.name}`).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
        expect(c.image, `${where} ${c.name}`).toMatch(new RegExp(`^${project.name}/[a-z-]+:${project.version.replace(/\./g, '\\.')}$`));
        expect(c.resources.requests && c.resources.limits.memory, `${where} ${c.name}`).toBeTruthy();
      }
      const app = pod.spec.containers[0];
      expect(app.startupProbe.httpGet.path).toBe('/health/started');
      expect(app.livenessProbe.httpGet.path).toBe('/health/live');
      expect(app.readinessProbe.httpGet.path).toBe('/health/ready');
      expect(app.lifecycle.preStop.exec.command).toEqual(['sleep', '10']);
      expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(10);
      // Read-only root: whatever the process writes goes to a volume.
      expect(app.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toContain('/tmp');
      // Nothing optional: a missing ConfigMap or Secret stops the pod instead of starting it half-configured.
      expect(JSON.stringify(pod)).not.toMatch(/"optional":true/);
    }
  });

  it('gives each deployable a Service with its public and internal ports named, and a disruption budget that fits its replicas', () => {
    const objects = built[variant];
    for (const w of workloads(objects)) {
      const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === w.metadata.name)!;
      expect(svc.spec!.ports.map((p: { name: string }) => p.name)).toEqual(['http', 'internal']);
      const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === w.metadata.name)!;
      if (w.spec!.replicas > 1) expect(pdb.spec!.minAvailable).toBe(1);
      else expect(pdb.spec!.maxUnavailable).toBe(1);
    }
  });
});

describe('the stores in each overlay', () => {
  it('on SQLite: one replica each, the monolith owns a volume claim template, and the service shares that volume on the same node', () => {
    const [monolith, payments] = ['monolith', 'payments-service'].map((n) => workloads(built.sqlite).find((w) => w.metadata.name === n)!);
    for (const w of [monolith!, payments!]) expect(w.spec!.replicas).toBe(1);
    expect(monolith!.spec!.volumeClaimTemplates[0].metadata.name).toBe('data');
    const pod = payments!.spec!.template.spec;
    expect(pod.volumes.find((v: { name: string }) => v.name === 'data').persistentVolumeClaim.claimName).toBe('data-monolith-0');
    expect(pod.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe('kubernetes.io/hostname');
  });

  it('on Postgres: the monolith migrates first with the admin URL only its init container sees, and each deployable gets the passwords of its own modules', () => {
    const monolith = workloads(built.postgres).find((w) => w.metadata.name === 'monolith')!.spec!.template.spec;
    const migrate = monolith.initContainers[0];
    expect(migrate.command).toEqual(['node', 'dist/migrate.mjs']);
    expect(migrate.env.find((e: { name: string }) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef.key).toBe('DATABASE_ADMIN_URL');
    expect(JSON.stringify(monolith.containers)).not.toMatch(/DATABASE_ADMIN_URL/);
    const service = workloads(built.postgres).find((w) => w.metadata.name === 'payments-service')!.spec!.template.spec;
    const passwords = service.containers[0].env.map((e: { name: string }) => e.name).filter((n: string) => n.startsWith('PG_PASSWORD_'));
    expect(passwords).toEqual(['PG_PASSWORD_PAYMENTS']);
    const settings = built.postgres.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('system-settings'))!;
    expect(settings.data!.DATABASE_URL).toMatch(/^postgres:\/\//);
  });
});

describe('the configuration', () => {
  it('documents every key of the settings and the secrets with a comment right above it', () => {
    for (const file of ['system/settings.env', 'system/secrets.example.env', 'kubernetes/postgres/settings.env']) {
      const lines = readFileSync(join(deploy, file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        const key = /^([A-Z_0-9]+)=/.exec(line)?.[1];
        if (key) expect(lines[i - 1], `${file} ${key}`).toMatch(new RegExp(`^# ${key}: .{20,}`));
      });
    }
    const secret = built.postgres.find((o) => o.kind === 'Secret')!;
    const example = readFileSync(join(deploy, 'system/secrets.example.env'), 'utf8');
    expect(Object.keys(secret.data!).sort()).toEqual([...example.matchAll(/^([A-Z_0-9]+)=/gm)].map((m) => m[1]).sort());
  });

  it('mounts a deployed topology that keeps the states of topology.json with in-cluster addresses', () => {
    const topology = readTopologyFile(join(deploy, 'system/topology.json'));
    expect(topology.monolith.urls).toEqual(['http://monolith:4000']);
    expect(topology.modules.payments).toEqual({ state: 'migrating', urls: ['http://payments-service:4103'] });
  });
});

describe('deploy/compose.yaml', () => {
  it('runs Redis, Postgres, the migrate step, the monolith, the extracted service and the proxy from the images Kubernetes runs', () => {
    const compose = parse(readFileSync(join(deploy, 'compose.yaml'), 'utf8')) as { services: Record<string, any> };
    expect(Object.keys(compose.services).sort()).toEqual(['migrate', 'monolith', 'payments-service', 'postgres', 'proxy', 'redis']);
    const images = new Set(workloads(built.postgres).map((w) => w.spec!.template.spec.containers[0].image));
    for (const name of ['migrate', 'monolith', 'payments-service', 'proxy']) {
      const s = compose.services[name];
      expect(images.has(s.image), `${name} ${s.image}`).toBe(true);
      const context = resolve(deploy, s.build.context);
      expect(context).toBe(repoRoot);
      expect(existsSync(resolve(context, s.build.dockerfile)), s.build.dockerfile).toBe(true);
      for (const f of s.env_file) expect(existsSync(join(deploy, f)), f).toBe(true);
      for (const v of s.volumes ?? []) expect(existsSync(resolve(deploy, v.split(':')[0])), v).toBe(true);
    }
    expect(compose.services['payments-service'].depends_on).toEqual({ migrate: { condition: 'service_completed_successfully' }, redis: { condition: 'service_healthy' } });
    expect(compose.services.proxy.ports).toContain('8080:8080');
  });
});

describe('the committed deploy folder', () => {
  it('is what the generator writes for the committed topology (npm run extract -- --refresh rewrites it)', () => {
    const topology = readTopologyFile(join(repoRoot, 'topology.json'));
    const { files } = deployFiles({ root: repoRoot, deployDir: join(repoRoot, 'deploy'), topology, manifests, project });
    for (const [path, content] of files) {
      expect(existsSync(path), `${path} is missing: run npm run extract -- --refresh`).toBe(true);
      expect(readFileSync(path, 'utf8'), `${path} differs: run npm run extract -- --refresh`).toBe(content);
    }
    expect(existsSync(join(repoRoot, 'deploy/system/proxy/config.json'))).toBe(true);
    expect(readFileSync(join(repoRoot, 'deploy/.gitignore'), 'utf8')).toMatch(/^system\/secrets\.env$/m);
  });
});
