// Kernel bench, the young-generation table: the app's start command with each candidate
// `--max-semi-space-size` (and with none: V8's default), side by side on the same warm data. For
// each, resident memory at ready and after load, and what the size costs the request path: GC
// pauses (count and time, from the server's own `gc` performance entries, scripts/bench/gc-tally.mjs)
// and CPU time per request, in rounds that run each server once in a rotating order; each round's
// ratio to V8's default is a sample, the median of them the figure. The size package.json and the
// images carry (scripts/deploy/runtime-flags.ts) is the one this table supports.
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { nodeOptionsOf } from './harness.ts';

const GC_TALLY = resolve(import.meta.dirname, 'gc-tally.mjs');
const SEMI_SPACE = /^--max-semi-space-size=/;

export interface YoungGenerationServer {
  child: ChildProcess;
  port: number;
  rss: number;
}

export interface YoungGenerationOptions {
  /** The start command's node arguments (flags, entry), from package.json. */
  startArgs: readonly string[];
  /** Candidate semi-space sizes in MB; `undefined` is V8's default. */
  sizes: readonly (number | undefined)[];
  rounds: number;
  seconds: number;
  start(args: string[]): Promise<YoungGenerationServer>;
  /** One load run: the server's CPU time per request and the requests served. */
  measure(pid: number, port: number, seconds: number): Promise<{ cpuPerRequestMs: number; total: number }>;
  rssMb(pid: number): number;
  stop(child: ChildProcess): Promise<void>;
}

export interface YoungGenerationRow {
  flag: string;
  readyMb: number;
  afterMb: number;
  gcPer1000: number;
  gcMsPer1000: number;
  cpuPerRequestMs: number;
  /** Median over rounds of this size's CPU per request over V8 default's in the same round. */
  cpuVsDefault: number;
}

async function gcTotals(pid: number): Promise<{ count: number; ms: number }> {
  const file = join(tmpdir(), `gc-tally-${pid}.json`);
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 5_000;
  for (;;) {
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      if (Date.now() > deadline) throw new Error(`no GC totals from ${pid}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function youngGenerationTrial(o: YoungGenerationOptions): Promise<YoungGenerationRow[]> {
  const { options, program } = nodeOptionsOf(o.startArgs);
  const flags = options.filter((a) => !SEMI_SPACE.test(a));
  const servers: YoungGenerationServer[] = [];
  try {
    for (const size of o.sizes) servers.push(await o.start([...(size === undefined ? [] : [`--max-semi-space-size=${size}`]), ...flags, '--import', GC_TALLY, ...program]));
    const samples = servers.map(() => ({ cpu: [] as number[], ratio: [] as number[], gc: [] as number[], gcMs: [] as number[] }));
    for (const s of servers) await o.measure(s.child.pid!, s.port, 1); // warm-up
    for (let round = 0; round < o.rounds; round++) {
      const cpu: number[] = [];
      for (let k = 0; k < servers.length; k++) {
        const i = (k + round) % servers.length;
        const s = servers[i]!;
        const before = await gcTotals(s.child.pid!);
        const r = await o.measure(s.child.pid!, s.port, o.seconds);
        const after = await gcTotals(s.child.pid!);
        cpu[i] = r.cpuPerRequestMs;
        samples[i]!.cpu.push(r.cpuPerRequestMs);
        samples[i]!.gc.push(((after.count - before.count) * 1000) / r.total);
        samples[i]!.gcMs.push(((after.ms - before.ms) * 1000) / r.total);
      }
      const base = cpu[o.sizes.indexOf(undefined)] ?? cpu[0]!;
      cpu.forEach((c, i) => samples[i]!.ratio.push(c / base));
      console.log(`  young generation round ${round + 1}: ${o.sizes.map((size, i) => `${size ?? 'default'} ${cpu[i]!.toFixed(3)} CPU ms/req`).join(' · ')}`);
    }
    return o.sizes.map((size, i) => ({
      flag: size === undefined ? '(none: V8 default)' : `--max-semi-space-size=${size}`,
      readyMb: servers[i]!.rss,
      afterMb: o.rssMb(servers[i]!.child.pid!),
      gcPer1000: median(samples[i]!.gc),
      gcMsPer1000: median(samples[i]!.gcMs),
      cpuPerRequestMs: median(samples[i]!.cpu),
      cpuVsDefault: median(samples[i]!.ratio),
    }));
  } finally {
    for (const s of servers) await o.stop(s.child);
  }
}
