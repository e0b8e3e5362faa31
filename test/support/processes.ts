// Real child processes for tests that need a process boundary: drain on SIGTERM, kill -9.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { eventually } from './eventually.ts';

export const repoRoot = resolve(import.meta.dirname, '../..');


export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
    s.once('error', rej);
  });
}

/** A port p whose p + 1000 is free too: a public and internal listener pair (INTERNAL_PORT = PORT + 1000). */
export async function freePair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 1000 > 65535) continue;
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port + 1000, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

export interface Child {
  proc: ChildProcess;
  output: () => string;
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
