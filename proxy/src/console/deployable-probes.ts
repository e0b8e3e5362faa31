// What the console learns from each deployable's internal listener: its /metrics (parsed) and its
// readiness. Scrapes are kept for a minute per address so counters become rates over a window;
// several browsers polling at once share one scrape per address per second.
import { parsePrometheusText, type Sample } from './prometheus-text.ts';

const REUSE_MS = 1000;
const KEEP_MS = 60_000;
const TIMEOUT_MS = 2000;

export interface Scrape {
  at: number;
  samples: Sample[];
}

export type Readiness =
  | { status: 'ready' | 'unready'; checks: Record<string, string> }
  | { status: 'unreachable'; detail: string };

export interface Observation {
  url: string;
  readiness: Readiness;
  /** Undefined when /metrics could not be read. */
  current: Scrape | undefined;
  /** The scrape rates are measured from: the oldest kept, or zero at the process's start. */
  baseline: Scrape | undefined;
  metricsError?: string;
}

export class DeployableProbes {
  private readonly history = new Map<string, Scrape[]>();
  private readonly latest = new Map<string, { at: number; observation: Promise<Observation> }>();

  observe(url: string): Promise<Observation> {
    const now = Date.now();
    const cached = this.latest.get(url);
    if (cached && now - cached.at < REUSE_MS) return cached.observation;
    const observation = this.scrape(url, now);
    this.latest.set(url, { at: now, observation });
    return observation;
  }

  /** Forgets addresses no longer in the topology. */
  retain(urls: Set<string>): void {
    for (const url of [...this.history.keys()]) if (!urls.has(url)) this.history.delete(url);
    for (const url of [...this.latest.keys()]) if (!urls.has(url)) this.latest.delete(url);
  }

  private async scrape(url: string, now: number): Promise<Observation> {
    const [readiness, metrics] = await Promise.all([readinessOf(url), metricsOf(url)]);
    if ('error' in metrics) return { url, readiness, current: undefined, baseline: undefined, metricsError: metrics.error };
    const current: Scrape = { at: now, samples: metrics.samples };
    const kept = (this.history.get(url) ?? []).filter((s) => now - s.at <= KEEP_MS);
    const started = metrics.samples.find((s) => s.name === 'process_start_time_seconds')?.value;
    // A restarted process starts its counters again: older scrapes say nothing about the new one.
    const since = started === undefined ? kept : kept.filter((s) => s.at >= started * 1000);
    const baseline = since[0] ?? (started === undefined ? undefined : { at: started * 1000, samples: [] });
    this.history.set(url, [...since, current]);
    return { url, readiness, current, baseline };
  }
}

async function readinessOf(url: string): Promise<Readiness> {
  try {
    const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    const body = (await res.json().catch(() => ({}))) as { checks?: Record<string, string> };
    return { status: res.ok ? 'ready' : 'unready', checks: body.checks ?? {} };
  } catch (err) {
    return { status: 'unreachable', detail: describeFetchError(err) };
  }
}

async function metricsOf(url: string): Promise<{ samples: Sample[] } | { error: string }> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!res.ok) return { error: `/metrics answered ${res.status}` };
    return { samples: parsePrometheusText(await res.text()) };
  } catch (err) {
    return { error: describeFetchError(err) };
  }
}

/** `fetch failed` says nothing: the cause's code (ECONNREFUSED...) does. */
export function describeFetchError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS} ms`;
  return e.cause?.code ?? e.cause?.message ?? e.message ?? 'unreachable';
}
