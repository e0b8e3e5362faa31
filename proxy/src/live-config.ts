// The config the proxy is serving, and the ways it changes: read at start, re-read when the file
// changes (polled; see config-watcher.ts), and written when a weight is set here (admin API or
// canary) so the file stays the one source of truth. Each valid config becomes a new RouteTable;
// an invalid one is rejected and the previous table keeps serving.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { parseConfigText, readRawConfig, writeConfig } from './config-file.ts';
import { setWeight as editWeight } from './config-edit.ts';
import type { ProxyConfig } from './config-schema.ts';
import { RouteTable } from './route-table.ts';
import type { UpstreamAgents } from './upstream-agents.ts';
import type { PoolEvents } from './upstream-pool.ts';
import type { ProxyMetrics } from './metrics.ts';
import { watchConfig } from './config-watcher.ts';

/** The file's text and the config it holds, as read at start. */
export interface ConfigRead {
  text: string;
  config: ProxyConfig;
}

/** Reads and validates the file; throws a ConfigError naming the line/column or the field. */
export function readConfigFile(path: string): ConfigRead {
  const text = readFileSync(path, 'utf8');
  return { text, config: parseConfigText(text, path) };
}

export interface LiveConfigOptions {
  path: string;
  /** What readConfigFile gave at start. */
  first: ConfigRead;
  agents: UpstreamAgents;
  metrics: ProxyMetrics;
  log: Logger;
  /** Probe instances (off in the bench, where probes would be noise). */
  healthChecks: boolean;
  watchIntervalMs: number;
  /** After each applied config (the canary drops routes that went away, gauges follow). */
  onApplied(config: ProxyConfig): void;
  /** After this process wrote a weight to the file (a cluster worker tells its siblings). */
  onWeightPersisted?(): void;
  /** Weights changed here (admin API, canary, or an edit of the file): share them. */
  onWeightsChanged?(weights: Record<string, number>): void;
}

export class LiveConfig {
  private current: RouteTable | undefined;
  private lastText: string;
  /** The config as the file has it; what is served is this with the shared weights over it. */
  private fileConfig: ProxyConfig;
  /** Weights set elsewhere (other proxies sharing the table) or here since the file was read. */
  private readonly shared = new Map<string, number>();
  private stopWatching: (() => void) | undefined;
  private readonly opts: LiveConfigOptions;
  private readonly poolEvents: PoolEvents;
  /** The config read at construction, served from start(). */
  readonly initial: ProxyConfig;

  constructor(opts: LiveConfigOptions) {
    this.opts = opts;
    this.lastText = opts.first.text;
    this.initial = opts.first.config;
    this.fileConfig = opts.first.config;
    const { metrics, log } = opts;
    this.poolEvents = {
      onEjected: (pool, instance) => {
        metrics.instanceHealthy.labels(pool, instance).set(0);
        log.warn({ pool, instance }, 'instance taken out of rotation');
      },
      onReadmitted: (pool, instance) => {
        metrics.instanceHealthy.labels(pool, instance).set(1);
        log.info({ pool, instance }, 'instance back in rotation');
      },
    };
  }

  /** The table serving now. */
  table(): RouteTable {
    return this.current!;
  }

  /** Serves the initial config and starts watching the file. */
  start(): void {
    this.apply(this.initial);
    this.stopWatching = watchConfig(this.opts.path, this.opts.watchIntervalMs, (text) => this.onText(text));
  }

  /** Re-reads the file now instead of waiting for the watcher. */
  reload(): void {
    let text: string;
    try {
      text = readFileSync(this.opts.path, 'utf8');
    } catch {
      return; // unreadable for a moment: the watcher will try again
    }
    this.onText(text);
  }

  /** Writes a route's weight to the file and serves it at once. Throws if the file cannot be edited. */
  persistWeight(route: string, weight: number): void {
    const { path, log } = this.opts;
    writeConfig(path, editWeight(readRawConfig(path), route, weight));
    this.lastText = readFileSync(path, 'utf8');
    this.shared.set(route, weight);
    this.apply(parseConfigText(this.lastText, path));
    log.info({ route, weight }, 'route weight set');
    this.opts.onWeightPersisted?.();
    this.opts.onWeightsChanged?.({ [route]: weight });
  }

  /** Weights from the shared table (other proxies): served over the file's. */
  applyShared(weights: Map<string, number>): void {
    let changed = false;
    for (const [route, weight] of weights) {
      if (this.shared.get(route) === weight) continue;
      this.shared.set(route, weight);
      changed = true;
    }
    if (changed) {
      this.apply(this.fileConfig);
      this.opts.log.info({ weights: Object.fromEntries(weights) }, 'shared weights applied');
    }
  }

  stop(): void {
    this.stopWatching?.();
    this.current?.stop();
  }

  private onText(text: string): void {
    if (text === this.lastText) return;
    this.lastText = text;
    const { path, metrics, log } = this.opts;
    try {
      const next = parseConfigText(text, path);
      // A weight edited in the file is news for the other proxies sharing the table.
      const edited: Record<string, number> = {};
      for (const r of next.routes) {
        const before = this.fileConfig.routes.find((p) => p.name === r.name);
        if (r.old !== undefined && before?.weight !== r.weight) edited[r.name] = r.weight;
      }
      for (const [route, weight] of Object.entries(edited)) this.shared.set(route, weight);
      this.apply(next);
      if (Object.keys(edited).length) this.opts.onWeightsChanged?.(edited);
      metrics.reloads.labels('applied').inc();
      log.info({ path }, 'config reloaded');
    } catch (err) {
      metrics.reloads.labels('rejected').inc();
      log.error({ err: (err as Error).message }, 'config change rejected; the previous config keeps serving');
    }
  }

  private apply(fileConfig: ProxyConfig): void {
    const { agents, metrics, healthChecks } = this.opts;
    this.fileConfig = fileConfig;
    const config: ProxyConfig = this.shared.size
      ? { ...fileConfig, routes: fileConfig.routes.map((r) => (r.old !== undefined && this.shared.has(r.name) ? { ...r, weight: this.shared.get(r.name)! } : r)) }
      : fileConfig;
    agents.setConnectTimeout(config.connectTimeoutMs);
    // Instances whose URL did not change keep their health state and in-flight counts.
    const next = new RouteTable(config, agents, this.poolEvents, this.current);
    const previous = this.current;
    this.current = next;
    if (healthChecks) next.start();
    previous?.stop();
    for (const r of config.routes) metrics.routeWeight.labels(r.name).set(r.weight);
    for (const pool of next.pools.values()) for (const inst of pool.instances) metrics.instanceHealthy.labels(pool.name, inst.base).set(inst.healthy ? 1 : 0);
    this.opts.onApplied(config);
  }
}
