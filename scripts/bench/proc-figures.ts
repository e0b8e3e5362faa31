// What a bench reads about a process from Linux's /proc: its CPU time and its descendants. Every
// figure is undefined where /proc is not there (or the process is gone).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

// /proc/<pid>/stat counts CPU time in clock ticks (USER_HZ, 100 on Linux).
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU time (ms, user + system) the process has used so far, all its threads included. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields from its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** A process and all its descendants (nginx's master and worker, the proxy's primary and worker). */
export function processTree(pid: number): number[] {
  const out = [pid];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      for (const child of children ? children.split(' ') : []) out.push(...processTree(Number(child)));
    }
  } catch {
    // gone, or no /proc
  }
  return out;
}

/** CPU time (ms) used so far by a process and all its descendants. */
export function treeCpuMs(pid: number): number | undefined {
  if (processCpuMs(pid) === undefined) return undefined;
  return processTree(pid).reduce((sum, p) => sum + (processCpuMs(p) ?? 0), 0);
}

/**
 * Write system calls (`write`, `writev`: /proc/<pid>/io's `syscw`) made so far by a process and all
 * its descendants. A round trip to a database or broker is one on the sender's side, as is an HTTP
 * answer, a log write or a file write of SQLite's: a count that follows the round trips (and pages)
 * a change saves, not the machine's speed.
 */
export function treeWriteSyscalls(pid: number): number | undefined {
  const count = (p: number) => {
    try {
      const line = readFileSync(`/proc/${p}/io`, 'utf8').split('\n').find((l) => l.startsWith('syscw:'));
      return line === undefined ? undefined : Number(line.slice(6));
    } catch {
      return undefined;
    }
  };
  if (count(pid) === undefined) return undefined;
  return processTree(pid).reduce((sum, p) => sum + (count(p) ?? 0), 0);
}

/**
 * Context switches the whole machine has made since it booted (/proc/stat's `ctxt`). Every round
 * trip between two processes costs a few, on both sides; unlike CPU time, the count hardly moves
 * with how fast the machine happens to run.
 */
export function machineContextSwitches(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('ctxt '));
    return line === undefined ? undefined : Number(line.slice(5));
  } catch {
    return undefined;
  }
}
