// What the benches read from /proc. The orders bench reports the machine's context switches and the
// topology's write system calls per order; here, a known number of round trips between two
// processes must show in both counts.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { machineContextSwitches, treeWriteSyscalls } from './proc-figures.ts';

const ROUND_TRIPS = 200;

/**
 * A child that answers every line it reads (each answer wakes this process, each question it):
 * `count` is read once the child has answered a first line, then again after ROUND_TRIPS more.
 * Answers both readings; the child has exited by then, and its pid is given for a reading after.
 */
async function roundTrips(count: (childPid: number) => number | undefined) {
  const child = spawn(process.execPath, ['-e', "process.stdin.on('data', (d) => process.stdout.write(d))"], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    child.stdin.write('0\n');
    await once(child.stdout, 'data');
    const before = count(child.pid!);
    for (let i = 1; i <= ROUND_TRIPS; i++) {
      child.stdin.write(`${i}\n`);
      await once(child.stdout, 'data');
    }
    return { before, after: count(child.pid!), pid: child.pid! };
  } finally {
    child.kill();
    await once(child, 'exit');
  }
}

describe('machineContextSwitches', () => {
  it('counts at least one context switch for each round trip between two processes', async () => {
    const { before, after } = await roundTrips(() => machineContextSwitches());
    expect(before).toBeTypeOf('number');
    expect(after! - before!).toBeGreaterThanOrEqual(ROUND_TRIPS);
  });
});

describe('treeWriteSyscalls', () => {
  it('counts at least one write of a process for each answer it wrote, and none for a process that is gone', async () => {
    const { before, after, pid } = await roundTrips((childPid) => treeWriteSyscalls(childPid));
    expect(before).toBeTypeOf('number');
    expect(after! - before!).toBeGreaterThanOrEqual(ROUND_TRIPS);
    expect(treeWriteSyscalls(pid)).toBeUndefined();
  });
});
