// What the benches read from /proc. The orders bench reports the machine's context switches and the
// topology's write system calls per order; here, a known number of round trips between two
// processes must show in both counts.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { machineContextSwitches, treeWriteSyscalls } from './proc-figures.ts';

const ROUND_TRIPS = 200;

describe('machineContextSwitches', () => {
  it('counts at least one context switch for each round trip between two processes', async () => {
    // A child that answers every line it reads: each answer wakes this process, each question it.
    const child = spawn(process.execPath, ['-e', "process.stdin.on('data', (d) => process.stdout.write(d))"], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      // One round trip before counting: the child has started and answers.
      child.stdin.write('0\n');
      await once(child.stdout, 'data');
      const before = machineContextSwitches();
      expect(before).toBeTypeOf('number');
      for (let i = 1; i <= ROUND_TRIPS; i++) {
        child.stdin.write(`${i}\n`);
        await once(child.stdout, 'data');
      }
      const after = machineContextSwitches()!;
      expect(after - before!).toBeGreaterThanOrEqual(ROUND_TRIPS);
    } finally {
      child.kill();
    }
  });
});

describe('treeWriteSyscalls', () => {
  it('counts at least one write of a process for each answer it wrote, and none for a process that is gone', async () => {
    const child = spawn(process.execPath, ['-e', "process.stdin.on('data', (d) => process.stdout.write(d))"], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      child.stdin.write('0\n');
      await once(child.stdout, 'data');
      const before = treeWriteSyscalls(child.pid!);
      expect(before).toBeTypeOf('number');
      for (let i = 1; i <= ROUND_TRIPS; i++) {
        child.stdin.write(`${i}\n`);
        await once(child.stdout, 'data');
      }
      expect(treeWriteSyscalls(child.pid!)! - before!).toBeGreaterThanOrEqual(ROUND_TRIPS);
    } finally {
      child.kill();
      await once(child, 'exit');
    }
    expect(treeWriteSyscalls(child.pid!)).toBeUndefined();
  });
});
