// Everything the console page shows, in one JSON document built on demand: per module its state
// (the topology file), instances with health and what they really host, the contract calls it
// receives and makes, its outbox backlog and dead letters; per route the weight, each side's
// traffic and errors, the canary with its history, shadow results with the differing fields, and
// fallbacks; the deployables' figures, the latest failing requests, parked sagas and the audit log.
import type { AdminActions } from '../admin-actions.ts';
import type { LiveConfig } from '../live-config.ts';
import type { ShadowDiff } from '../shadow-compare.ts';
import type { AuditEntry, AuditLog } from './audit-log.ts';
import { describeFetchError, type DeployableProbes, type Readiness } from './deployable-probes.ts';
import { figuresOf, type BreakerFigure, type CallFigure, type DeployableFigures } from './deployable-figures.ts';
import { BODY_SHOWN, differingPaths } from './json-diff.ts';
import type { FailedRequest, RecentFailures } from './recent-failures.ts';
import type { ModuleState, TopologyFile } from './topology-file.ts';
import type { TrafficHistory, TrafficPoint } from './traffic-history.ts';

const DIFFS_PER_ROUTE = 5;
const DEAD_LETTERS_SHOWN = 20;
const AUDIT_SHOWN = 30;

export interface SummarySources {
  live: LiveConfig;
  actions: AdminActions;
  topology: TopologyFile;
  probes: DeployableProbes;
  traffic: TrafficHistory;
  failures: RecentFailures;
  audit: AuditLog;
  /** The trace viewer link with `{traceId}` in it, if one is configured. */
  traceUrl: string | undefined;
}

interface InstanceView {
  url: string;
  role: 'monolith' | 'service';
  deployable: string | undefined;
  readiness: Readiness;
  hosts: string[] | undefined;
  metricsError?: string;
  calls: CallFigure[];
  breakers: BreakerFigure[];
  outboxBacklog: Record<string, number>;
  deadLetters: Record<string, number>;
  parkedSagas: Record<string, number> | undefined;
}

export interface DeadLetterView {
  instance: string;
  module: string;
  seq: number;
  eventId: string;
  event: string;
  reason: string;
  attempts: number;
  createdAt: string;
  payload: string;
}

export async function buildSummary(src: SummarySources, authorization: string | undefined) {
  const topology = src.topology.read();
  const state = (await src.actions.state()) as {
    pid: number;
    instance?: string;
    canaryController?: string | null;
    routes: { name: string; prefix: string; methods: string[] | 'any'; old?: string; new: string; weight: number; canary?: { steps: unknown[] } }[];
    pools: { name: string; instances: { url: string; healthy: boolean; inFlight: number }[] }[];
    shadow: { routes: Record<string, { compared: number; matched: number; errors: number; matchRate: number | null }>; latestDiffs: ShadowDiff[] };
    fallbacks: Record<string, Record<string, number>>;
    canary: Record<string, unknown>;
  };
  const config = src.live.table().config;

  // Every internal listener the topology names, observed once (readiness and metrics).
  const roles = new Map<string, 'monolith' | 'service'>();
  for (const url of topology.monolith) roles.set(url, 'monolith');
  for (const m of Object.values(topology.modules)) for (const url of m.urls) if (!roles.has(url)) roles.set(url, 'service');
  src.probes.retain(new Set(roles.keys()));
  const instances: InstanceView[] = await Promise.all(
    [...roles].map(async ([url, role]) => {
      const o = await src.probes.observe(url);
      const f: DeployableFigures | undefined = figuresOf(o);
      return {
        url,
        role,
        deployable: f?.deployable,
        readiness: o.readiness,
        hosts: f?.hosts,
        ...(o.metricsError ? { metricsError: o.metricsError } : {}),
        calls: f?.calls ?? [],
        breakers: f?.breakers ?? [],
        outboxBacklog: f?.outboxBacklog ?? {},
        deadLetters: f?.deadLetters ?? {},
        parkedSagas: f?.parkedSagas,
      };
    }),
  );
  const byUrl = new Map(instances.map((i) => [i.url, i]));

  const names = new Set<string>(Object.keys(topology.modules));
  for (const i of instances) for (const m of i.hosts ?? []) names.add(m);
  const modules = await Promise.all(
    [...names].sort().map(async (name) => {
      const entry = topology.modules[name];
      const moduleState: ModuleState = entry?.state ?? 'local';
      const urls = moduleState === 'local' ? topology.monolith : moduleState === 'remote' ? (entry?.urls ?? []) : [...topology.monolith, ...(entry?.urls ?? [])];
      const mine = urls.map((u) => byUrl.get(u)).filter((i): i is InstanceView => i !== undefined);
      const notes: string[] = [];
      for (const i of mine) {
        if (i.hosts && !i.hosts.includes(name)) notes.push(`${i.url} (${i.deployable ?? i.role}) does not run ${name}, though the topology says it should`);
      }
      if (moduleState === 'remote') {
        for (const u of topology.monolith) if (byUrl.get(u)?.hosts?.includes(name)) notes.push(`the monolith at ${u} still runs ${name}, though the topology says it is remote: restart it`);
      }
      const pool = state.pools.find((p) => p.name === name);
      const hostedOnlyHere = (i: InstanceView) => i.hosts?.length === 1 && i.hosts[0] === name;
      return {
        name,
        state: moduleState,
        inTopology: entry !== undefined,
        instances: mine.map((i) => ({ url: i.url, role: i.role, deployable: i.deployable, readiness: i.readiness, runsIt: i.hosts ? i.hosts.includes(name) : null })),
        pool: pool ? { name: pool.name, inRotation: pool.instances.filter((x) => x.healthy).length, total: pool.instances.length } : undefined,
        received: instances.flatMap((i) => i.calls.filter((c) => c.contract === name)),
        // Calls are labelled with the deployable that made them, not the module: they are this
        // module's own only where its deployable runs nothing else (an extracted service).
        made: mine.filter(hostedOnlyHere).flatMap((i) => i.calls.filter((c) => c.contract !== name)),
        breakers: instances.flatMap((i) => i.breakers.filter((b) => b.target === name).map((b) => ({ at: i.deployable ?? i.url, state: b.state }))),
        outbox: mine.filter((i) => i.outboxBacklog[name] !== undefined).map((i) => ({ instance: i.url, backlog: i.outboxBacklog[name]! })),
        deadLetters: await deadLettersOf(name, mine, authorization),
        parkedSagas: name === 'orders' ? parkedOf(mine) : undefined,
        notes,
      };
    }),
  );

  const routeNames = state.routes.map((r) => r.name);
  const traffic: Record<string, TrafficPoint[]> = await src.traffic.history(routeNames);
  const routes = state.routes.map((r) => {
    const rc = config.routes.find((c) => c.name === r.name);
    const ignore = rc?.shadow?.ignoreFields ?? [];
    return {
      name: r.name,
      prefix: r.prefix,
      methods: r.methods,
      old: r.old ?? null,
      new: r.new,
      weight: r.weight,
      traffic: traffic[r.name] ?? [],
      canarySteps: rc?.canary?.steps ?? null,
      canary: state.canary[r.name] ?? null,
      shadow: rc?.shadow ? { percent: rc.shadow.percent, ...(state.shadow.routes[r.name] ?? { compared: 0, matched: 0, errors: 0, matchRate: null }) } : null,
      shadowDiffs: state.shadow.latestDiffs
        .filter((d) => d.route === r.name)
        .slice(0, DIFFS_PER_ROUTE)
        .map((d) => ({ ...d, primary: shown(d.primary), shadow: shown(d.shadow), differing: { status: d.primary.status !== d.shadow.status, ...differingPaths(d.primary.body, d.shadow.body, ignore) } })),
      fallbacks: state.fallbacks[r.name] ?? {},
    };
  });

  const failures: FailedRequest[] = await src.failures.latest();
  const audit: AuditEntry[] = await src.audit.latest(AUDIT_SHOWN);
  return {
    generatedAt: new Date().toISOString(),
    proxy: { pid: state.pid, instance: state.instance ?? null, canaryController: state.canaryController ?? null, shared: state.instance !== undefined },
    confirmStep: config.console.confirmStep,
    traceUrl: src.traceUrl ?? null,
    topology: { file: topology.file ?? null, error: topology.error ?? null, monolith: topology.monolith },
    modules,
    deployables: instances,
    routes,
    pools: state.pools,
    failures,
    audit: { where: src.audit.where, entries: audit },
  };
}

function shown(side: ShadowDiff['primary']) {
  return { side: side.side, status: side.status, body: side.body.length > BODY_SHOWN ? `${side.body.slice(0, BODY_SHOWN)}…` : side.body, truncated: side.body.length > BODY_SHOWN };
}

function parkedOf(instances: InstanceView[]) {
  const byStep: Record<string, number> = {};
  let seen = false;
  for (const i of instances) {
    if (!i.parkedSagas) continue;
    seen = true;
    for (const [step, n] of Object.entries(i.parkedSagas)) byStep[step] = (byStep[step] ?? 0) + n;
  }
  return seen ? { total: Object.values(byStep).reduce((a, b) => a + b, 0), byStep } : undefined;
}

/**
 * The pending dead letters of a module, read from the first instance that reports any, through
 * its admin route with the operator's own token (the deployable checks it; the proxy has none of
 * its own). Instances of a migrating module share its store, so one list is the list.
 */
async function deadLettersOf(module: string, instances: InstanceView[], authorization: string | undefined) {
  const count = Math.max(0, ...instances.map((i) => i.deadLetters[module] ?? 0));
  const from = instances.find((i) => (i.deadLetters[module] ?? 0) > 0);
  if (!from) return { count, items: [] as DeadLetterView[] };
  try {
    const res = await fetch(`${from.url}/admin/dead-letters?module=${encodeURIComponent(module)}`, {
      headers: authorization ? { authorization } : {},
      signal: AbortSignal.timeout(3000),
    });
    if (!res.ok) return { count, items: [], error: `${from.url} answered ${res.status} to the dead-letter list` };
    const body = (await res.json()) as { items?: { module: string; seq: number; eventId: string; handler: string; reason: string; attempts: number; createdAt: string; envelope?: { payload?: unknown } }[] };
    const items = (body.items ?? []).slice(0, DEAD_LETTERS_SHOWN).map((d) => ({
      instance: from.url,
      module: d.module,
      seq: d.seq,
      eventId: d.eventId,
      event: d.handler,
      reason: d.reason,
      attempts: d.attempts,
      createdAt: d.createdAt,
      payload: JSON.stringify(d.envelope?.payload ?? null).slice(0, 2000),
    }));
    return { count, items };
  } catch (err) {
    return { count, items: [], error: `${from.url}: ${describeFetchError(err)}` };
  }
}
