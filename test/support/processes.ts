// Real child processes for tests that need a process boundary: drain on SIGTERM, kill -9.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { eventually } from './eventually.ts';

export const repoRoot = resolve(import.meta.dirname, '../..');


// Ports for the processes tests start come from a block of this vitest worker's own, below the
// range the kernel hands out for port 0 and for outgoing connections (ip_local_port_range, from
// 32768 by default). A port taken with port 0 and released for a child to bind could be handed to
// another test file's listener in between; the child then failed to bind while the test, polling
// /health/ready on that port, got its answer from the other file's process and went on with the
// wrong system. No other worker, and no client socket, draws from this block.
const BLOCK = 1000;
const BASE = 12_000;
const WORKERS = 9; // 12000–29999: each worker a block for ports and one above it for freePair's +1000
const ephemeralLow = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 32_768;
  }
})();
const worker = Number(process.env.VITEST_POOL_ID ?? 0) || (process.pid % WORKERS) + 1;
const blockStart = BASE + ((worker - 1) % WORKERS) * 2 * BLOCK;
// Files run one after another in a worker, each with this module afresh: start anywhere in the block
// so a file does not hand out the ports its predecessor's processes just left.
let cursor = Math.floor(Math.random() * BLOCK);

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function kernelPort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
    s.once('error', rej);
  });
}

/** A free port of this worker's block (the kernel's choice where the block is not below its range). */
export async function freePort(): Promise<number> {
  if (blockStart + 2 * BLOCK > ephemeralLow) return kernelPort();
  for (let tried = 0; tried < BLOCK; tried++) {
    const port = blockStart + (cursor++ % BLOCK);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${blockStart}–${blockStart + BLOCK - 1}`);
}

/** A port p whose p + 1000 is free too: a public and internal listener pair (INTERNAL_PORT = PORT + 1000). */
export async function freePair(): Promise<number> {
  for (let tried = 0; tried < BLOCK; tried++) {
    const port = await freePort();
    if (port + 1000 <= 65535 && (await canListen(port + 1000))) return port;
  }
  throw new Error('no free port pair');
}

export interface Child {
  proc: ChildProcess;
  output: () => string;
  /** Set by a test that stops the process on purpose (so its exit is not reported as a crash). */
  killedByTest?: boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startTs(entry: string, env: Record<string, string>, args: string[] = []): Child {
  const proc = spawn(process.execPath, [resolve(repoRoot, entry), ...args], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  return { proc, output: () => out, exited };
}

// Generous: a node start that takes a second alone can take many on a loaded two-core machine.
export async function waitReady(baseUrl: string, child?: Child, timeoutMs = 90_000): Promise<void> {
  await eventually(async () => {
    if (child && child.proc.exitCode !== null) throw new Error(`process exited early:\n${child.output()}`);
    const r = await fetch(`${baseUrl}/health/ready`);
    return r.status === 200;
  }, `${baseUrl} ready`, timeoutMs, 50);
}
