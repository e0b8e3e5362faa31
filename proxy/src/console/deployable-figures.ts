// The figures the console shows for one deployable instance, read from its metrics (the same
// names the dashboards use): contract calls it made (rate, errors, p99 per contract, operation and
// binding), its breakers, the outbox backlog and dead letters of each module it hosts, and parked
// order sagas. Rates and p99 are measured between two scrapes (deployable-probes.ts).
import type { Sample } from './prometheus-text.ts';
import type { Observation } from './deployable-probes.ts';

export interface CallFigure {
  /** The callee module (the contract's name). */
  contract: string;
  operation: string;
  /** `in-process` or `remote`. */
  binding: string;
  /** The deployable that made the calls (the metrics' `deployable` label). */
  caller: string;
  /** Calls in the window, and since the process started. */
  calls: number;
  sinceStart: number;
  /** The window the rate, error rate and p99 are measured over. */
  windowSeconds: number | null;
  perSecond: number;
  errorRate: number | null;
  p99Ms: number | null;
}

export interface BreakerFigure {
  /** A remote module (contract_breaker_state) or an outside dependency and its partition (circuit_breaker_state). */
  target: string;
  state: 'closed' | 'open' | 'half-open' | 'isolated' | 'unknown';
}

export interface DeployableFigures {
  deployable: string | undefined;
  /** Modules with a store in this process: what it really hosts. */
  hosts: string[];
  calls: CallFigure[];
  breakers: BreakerFigure[];
  outboxBacklog: Record<string, number>;
  deadLetters: Record<string, number>;
  /** order_sagas_parked_total by step, when this process runs the orders saga. */
  parkedSagas: Record<string, number> | undefined;
  windowSeconds: number | null;
}

const BREAKER_STATES = ['closed', 'open', 'half-open', 'isolated'] as const;

export function figuresOf(o: Observation): DeployableFigures | undefined {
  if (!o.current) return undefined;
  const cur = o.current.samples;
  const base = o.baseline?.samples ?? [];
  const seconds = o.baseline ? (o.current.at - o.baseline.at) / 1000 : null;
  const deployable = cur.find((s) => s.labels.deployable)?.labels.deployable;
  const byModule = (name: string) => Object.fromEntries(cur.filter((s) => s.name === name && s.labels.module).map((s) => [s.labels.module!, s.value]));
  const outboxBacklog = byModule('bus_outbox_backlog');
  const breakers: BreakerFigure[] = [
    ...cur.filter((s) => s.name === 'contract_breaker_state').map((s) => ({ target: s.labels.module ?? '?', state: breakerState(s.value) })),
    ...cur
      .filter((s) => s.name === 'circuit_breaker_state')
      .map((s) => ({ target: [s.labels.dependency, s.labels.partition].filter(Boolean).join(' / '), state: breakerState(s.value) })),
  ];
  const parked = cur.filter((s) => s.name === 'order_sagas_parked_total');
  return {
    deployable,
    hosts: Object.keys(outboxBacklog),
    calls: callFigures(cur, base, seconds, deployable ?? o.url),
    breakers,
    outboxBacklog,
    deadLetters: byModule('bus_dead_letters'),
    parkedSagas: parked.length || outboxBacklog.orders !== undefined ? Object.fromEntries(parked.map((s) => [s.labels.step ?? '?', s.value])) : undefined,
    windowSeconds: seconds,
  };
}

function breakerState(value: number): BreakerFigure['state'] {
  return BREAKER_STATES[value] ?? 'unknown';
}

const CALLS = 'contract_call_duration_seconds';

function callFigures(cur: Sample[], base: Sample[], seconds: number | null, caller: string): CallFigure[] {
  const key = (s: Sample) => `${s.labels.contract}\0${s.labels.operation}\0${s.labels.binding}`;
  const baseValue = new Map<string, number>();
  for (const s of base) if (s.name.startsWith(CALLS)) baseValue.set(sampleId(s), s.value);
  // A counter below its baseline was reset (a restart): count from zero.
  const delta = (s: Sample) => {
    const b = baseValue.get(sampleId(s)) ?? 0;
    return s.value >= b ? s.value - b : s.value;
  };
  const groups = new Map<string, { contract: string; operation: string; binding: string; calls: number; sinceStart: number; errors: number; buckets: Map<number, number> }>();
  const group = (s: Sample) => {
    const k = key(s);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { contract: s.labels.contract ?? '?', operation: s.labels.operation ?? '?', binding: s.labels.binding ?? '?', calls: 0, sinceStart: 0, errors: 0, buckets: new Map() }));
    return g;
  };
  for (const s of cur) {
    if (s.name === `${CALLS}_count`) {
      const g = group(s);
      const d = delta(s);
      g.calls += d;
      g.sinceStart += s.value;
      if (s.labels.outcome === 'error') g.errors += d;
    } else if (s.name === `${CALLS}_bucket`) {
      const g = group(s);
      const le = Number(s.labels.le);
      g.buckets.set(le, (g.buckets.get(le) ?? 0) + delta(s));
    }
  }
  return [...groups.values()]
    .map((g) => ({
      contract: g.contract,
      operation: g.operation,
      binding: g.binding,
      caller,
      calls: g.calls,
      sinceStart: g.sinceStart,
      windowSeconds: seconds === null ? null : Math.round(seconds),
      perSecond: seconds ? round(g.calls / seconds) : 0,
      errorRate: g.calls ? round(g.errors / g.calls) : null,
      p99Ms: g.calls ? quantileMs(g.buckets, 0.99) : null,
    }))
    .sort((a, b) => `${a.contract}.${a.operation}`.localeCompare(`${b.contract}.${b.operation}`));
}

function sampleId(s: Sample): string {
  return `${s.name}{${Object.entries(s.labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}}`;
}

/** A quantile from cumulative histogram buckets, interpolated inside its bucket as Prometheus's histogram_quantile does. */
export function quantileMs(buckets: Map<number, number>, q: number): number | null {
  const sorted = [...buckets].sort(([a], [b]) => a - b);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (!total) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return round(prevLe * 1000);
      const inBucket = count - prevCount;
      const at = inBucket ? prevLe + ((le - prevLe) * (rank - prevCount)) / inBucket : le;
      return round(at * 1000);
    }
    prevLe = le;
    prevCount = count;
  }
  return round(prevLe * 1000);
}

const round = (n: number) => Math.round(n * 1000) / 1000;
