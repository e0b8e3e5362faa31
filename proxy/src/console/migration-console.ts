// The migration console's server side, put together for one proxy process: the topology it reads,
// the deployables it observes, the traffic and failing requests it keeps, the audit log, the
// summary the page polls and the dead-letter replay it relays. It lives on the proxy's internal
// listener, so any replica can serve it: with REDIS_URL the table, canary, shadow figures, traffic,
// failing requests and audit log are the same from every replica.
import { basename, dirname, extname, join } from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AdminActions } from '../admin-actions.ts';
import type { ConsoleCalls, DeadLetterRef } from '../admin-api.ts';
import type { LiveConfig } from '../live-config.ts';
import { fileAuditLog, redisAuditLog, type AuditLog } from './audit-log.ts';
import { DeployableProbes, describeFetchError } from './deployable-probes.ts';
import { buildSummary } from './migration-summary.ts';
import { RecentFailures } from './recent-failures.ts';
import { TopologyFile } from './topology-file.ts';
import { TrafficHistory } from './traffic-history.ts';

export interface ConsoleOptions {
  /** The topology file the deployables start from (TOPOLOGY_FILE). Unset: routes and pools only. */
  topologyFile?: string;
  /** A trace viewer link with `{traceId}` in it (CONSOLE_TRACE_URL), e.g. http://jaeger:16686/trace/{traceId}. */
  traceUrl?: string;
  /** Without Redis: the audit log's file. Default: beside the config, `<config name>.audit.jsonl`. */
  auditFile?: string;
  /** MONOLITH_URLS and MODULE_<NAME>_URLS, read as the deployables read them. */
  env?: Record<string, string | undefined>;
}

export class MigrationConsole implements ConsoleCalls {
  readonly traffic: TrafficHistory;
  readonly failures: RecentFailures;
  readonly audit: AuditLog;
  private readonly redis: Redis | undefined;
  private readonly topology: TopologyFile;
  private readonly probes = new DeployableProbes();
  private readonly deps: { live: LiveConfig; actions: AdminActions };
  private readonly traceUrl: string | undefined;

  constructor(o: { configPath: string; redisUrl?: string; redisPrefix: string; log: Logger; options: ConsoleOptions; live: LiveConfig; actions: AdminActions }) {
    const onError = (err: Error) => o.log.error({ err: err.message }, 'console: redis error');
    if (o.redisUrl) {
      this.redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 1 });
      this.redis.on('error', onError);
    }
    const shared = this.redis && { client: this.redis, key: (name: string) => `${o.redisPrefix}${name}` };
    this.traffic = new TrafficHistory(shared, onError);
    this.failures = new RecentFailures(shared, onError);
    this.audit = shared ? redisAuditLog(shared.client, shared.key('console:audit'), o.log) : fileAuditLog(o.options.auditFile ?? defaultAuditFile(o.configPath), o.log);
    this.topology = new TopologyFile(o.options.topologyFile, o.options.env ?? {});
    this.traceUrl = o.options.traceUrl;
    this.deps = { live: o.live, actions: o.actions };
  }

  summary(authorization: string | undefined): Promise<unknown> {
    return buildSummary({ ...this.deps, topology: this.topology, probes: this.probes, traffic: this.traffic, failures: this.failures, audit: this.audit, traceUrl: this.traceUrl }, authorization);
  }

  async replayDeadLetter(what: DeadLetterRef, authorization: string | undefined) {
    // Only an internal listener the topology names: the console never calls an address a caller chose.
    const view = this.topology.read();
    const known = new Set([...view.monolith, ...Object.values(view.modules).flatMap((m) => m.urls)]);
    if (!known.has(what.instance)) return { problem: { status: 404, code: 'UnknownInstance', detail: `${what.instance} is not an instance in the topology` } };
    let res: Response;
    try {
      res = await fetch(`${what.instance}/admin/dead-letters/replay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ module: what.module, seq: what.seq }),
        signal: AbortSignal.timeout(5000),
      });
    } catch (err) {
      return { problem: { status: 502, code: 'DeployableUnreachable', detail: `${what.instance}: ${describeFetchError(err)}` } };
    }
    const body = (await res.json().catch(() => ({}))) as { replayed?: number; code?: string; detail?: string };
    // The deployable's refusal (its token check, its validation) is the answer, under its own code.
    if (!res.ok) return { problem: { status: res.status >= 500 ? 502 : res.status, code: body.code ?? 'ReplayFailed', detail: `${what.instance} answered ${res.status}: ${body.detail ?? 'no detail'}` } };
    return { body: { ...body, instance: what.instance, module: what.module, seq: what.seq }, change: { route: what.module, from: 'dead letter', to: `replayed ${body.replayed ?? 0}` } };
  }

  async close(): Promise<void> {
    this.traffic.stop();
    await this.traffic.flush();
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }
}

/** `proxy/config.json` → `proxy/config.audit.jsonl`. */
export function defaultAuditFile(configPath: string): string {
  return join(dirname(configPath), `${basename(configPath, extname(configPath))}.audit.jsonl`);
}
