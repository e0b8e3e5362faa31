// Kubernetes resources per deployable, written as plain objects and checked against the API
// schemas in test/deploy. Each app deployable has two variants:
//   postgres  a Deployment (2 replicas, rolling, PodDisruptionBudget minAvailable 1); the monolith
//             migrates every module's schema in an init container with the admin URL, which only
//             that container sees
//   sqlite    a StatefulSet of one replica: a SQLite store is files on one volume, and two
//             replicas would be two stores. While a module is migrating, the monolith and its
//             service must open the same file, so services mount the monolith's volume and are
//             scheduled on its node (one node; use Postgres beyond that)
// The proxy is a Deployment in both. Every pod: non-root, read-only root filesystem, no privilege
// escalation, no capabilities, a preStop pause so endpoints drain before SIGTERM, the three
// probes, resources, and Prometheus annotations on the internal port.
import { RUNTIME_UID } from './dockerfile.ts';
import { passwordVariable, type Deployable, type SplitSystem } from './split-system.ts';

export type StoreVariant = 'sqlite' | 'postgres';

type Obj = Record<string, unknown>;

export const SETTINGS = 'system-settings';
export const SECRETS = 'system-secrets';
export const TOPOLOGY = 'system-topology';
export const ROUTES = 'proxy-routes';
/** How long a pod keeps serving after it is told to stop, so every endpoint list drops it first. */
export const PRE_STOP_SECONDS = 10;

function labels(d: Deployable, system: SplitSystem): Obj {
  return { 'app.kubernetes.io/name': d.name, 'app.kubernetes.io/part-of': system.project.name };
}

function podLabels(d: Deployable, system: SplitSystem): Obj {
  return { ...labels(d, system), 'app.kubernetes.io/version': system.project.version };
}

const secret = (name: string, key = name) => ({ name, valueFrom: { secretKeyRef: { name: SECRETS, key } } });

function service(d: Deployable, system: SplitSystem): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: d.name, labels: podLabels(d, system) },
    spec: {
      selector: labels(d, system),
      ports: [
        { name: 'http', port: d.port, targetPort: 'http' },
        { name: 'internal', port: d.internalPort, targetPort: 'internal' },
      ],
    },
  };
}

function disruptionBudget(d: Deployable, system: SplitSystem, replicas: number): Obj {
  // One replica cannot keep one available through a node drain: allow the eviction instead of blocking it.
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: d.name, labels: podLabels(d, system) },
    spec: { selector: { matchLabels: labels(d, system) }, ...(replicas > 1 ? { minAvailable: 1 } : { maxUnavailable: 1 }) },
  };
}

const containerSecurity = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } };

function probes(path: string) {
  const get = (p: string) => ({ httpGet: { path: p, port: 'http' } });
  return {
    // Startup gates the other two; liveness never checks dependencies; readiness does.
    startupProbe: { ...get(`${path}/started`), periodSeconds: 2, failureThreshold: 60 },
    livenessProbe: { ...get(`${path}/live`), periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
    readinessProbe: { ...get(`${path}/ready`), periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
  };
}

function podSpec(d: Deployable, system: SplitSystem, variant: StoreVariant | 'none'): Obj {
  const postgres = variant === 'postgres';
  const proxy = d.kind === 'proxy';
  const passwords = postgres ? d.stores.map((m) => secret(passwordVariable(m))) : [];
  const env = proxy
    ? [{ name: 'PROXY_PORT', value: String(d.port) }, { name: 'PROXY_INTERNAL_PORT', value: String(d.internalPort) }, { name: 'PROXY_CONFIG', value: '/config/proxy/config.json' }, secret('JWT_SECRET')]
    : [{ name: 'PORT', value: String(d.port) }, { name: 'INTERNAL_PORT', value: String(d.internalPort) }, secret('JWT_SECRET'), secret('SERVICE_JWT_SECRET'), ...passwords];
  const mounts = [
    { name: 'tmp', mountPath: '/tmp' },
    // Every deployable reads where modules run; the proxy's migration console shows it.
    { name: 'topology', mountPath: '/config/system', readOnly: true },
    ...(proxy ? [{ name: 'routes', mountPath: '/config/proxy' }] : [{ name: 'data', mountPath: '/data' }]),
  ];
  const resources = { requests: { cpu: '100m', memory: proxy ? '128Mi' : '192Mi' }, limits: { memory: proxy ? '256Mi' : '512Mi' } };
  const initContainers: Obj[] = [];
  if (proxy) {
    // The route table comes from the proxy-routes ConfigMap; the proxy writes admin and canary
    // changes back to its file, so each pod starts from a writable copy of it.
    initContainers.push({ name: 'route-table', image: d.image, command: ['cp', '/config/source/config.json', '/config/proxy/config.json'], securityContext: containerSecurity, resources, volumeMounts: [{ name: 'routes', mountPath: '/config/proxy' }, { name: 'routes-source', mountPath: '/config/source', readOnly: true }] });
  } else if (postgres && d.kind === 'monolith') {
    // Schemas, tables and one role per module with its password: the one-off admin step, before
    // the app starts. Idempotent and serialised per module by an advisory lock.
    initContainers.push({
      name: 'migrate',
      image: d.image,
      command: ['node', 'dist/migrate.mjs'],
      envFrom: [{ configMapRef: { name: SETTINGS } }],
      env: [secret('DATABASE_URL', 'DATABASE_ADMIN_URL'), secret('JWT_SECRET'), ...system.modules.map((m) => secret(passwordVariable(m)))],
      securityContext: containerSecurity,
      resources,
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'data', mountPath: '/data' }],
    });
  }
  const volumes: Obj[] = [{ name: 'tmp', emptyDir: {} }, { name: 'topology', configMap: { name: TOPOLOGY } }];
  if (proxy) volumes.push({ name: 'routes', emptyDir: {} }, { name: 'routes-source', configMap: { name: ROUTES } });
  else {
    if (postgres) volumes.push({ name: 'data', emptyDir: {} });
    else if (d.kind === 'service') volumes.push({ name: 'data', persistentVolumeClaim: { claimName: 'data-monolith-0' } });
  }
  const monolithLabels = { 'app.kubernetes.io/name': 'monolith', 'app.kubernetes.io/part-of': system.project.name };
  return {
    // preStop pause, then the app's own drain (SHUTDOWN_TIMEOUT_MS, 10 s), with room to spare.
    terminationGracePeriodSeconds: PRE_STOP_SECONDS + 20,
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: RUNTIME_UID, runAsGroup: RUNTIME_UID, fsGroup: RUNTIME_UID, seccompProfile: { type: 'RuntimeDefault' } },
    ...(variant === 'sqlite' && d.kind === 'service'
      ? { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: monolithLabels }, topologyKey: 'kubernetes.io/hostname' }] } } }
      : {}),
    ...(initContainers.length ? { initContainers } : {}),
    containers: [
      {
        name: d.kind === 'service' ? 'service' : d.kind,
        image: d.image,
        ports: [
          { name: 'http', containerPort: d.port },
          { name: 'internal', containerPort: d.internalPort },
        ],
        envFrom: [{ configMapRef: { name: SETTINGS } }],
        env,
        ...probes('/health'),
        lifecycle: { preStop: { exec: { command: ['sleep', String(PRE_STOP_SECONDS)] } } },
        resources,
        securityContext: containerSecurity,
        volumeMounts: mounts,
      },
    ],
    volumes,
  };
}

function template(d: Deployable, system: SplitSystem, variant: StoreVariant | 'none'): Obj {
  return {
    metadata: {
      labels: podLabels(d, system),
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(d.internalPort), 'prometheus.io/path': '/metrics' },
    },
    spec: podSpec(d, system, variant),
  };
}

/** The resources of one deployable in one variant (the proxy has one variant: `none`). */
export function deployableResources(d: Deployable, system: SplitSystem, variant: StoreVariant | 'none'): Obj[] {
  const meta = { name: d.name, labels: podLabels(d, system) };
  const selector = { matchLabels: labels(d, system) };
  if (variant === 'sqlite') {
    const ownsVolume = d.kind === 'monolith';
    const workload = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta,
      spec: {
        serviceName: d.name,
        replicas: 1,
        selector,
        template: template(d, system, variant),
        ...(ownsVolume ? { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] } : {}),
      },
    };
    return [service(d, system), disruptionBudget(d, system, 1), workload];
  }
  const workload = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta,
    spec: { replicas: 2, selector, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, template: template(d, system, variant) },
  };
  return [service(d, system), disruptionBudget(d, system, 2), workload];
}
