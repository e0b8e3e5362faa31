// What every benchmark needs around the thing it measures: a free port, waiting for a process
// to be ready, percentiles, a Postgres database of its own, and the node flags users start with.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';

/**
 * A package.json script's node arguments (its flags, then its entry file): a bench starts the app
 * as `npm start` and `npm run service` do, so it measures what users run.
 */
export function scriptArgs(script: 'start' | 'service'): string[] {
  const root = resolve(import.meta.dirname, '../..');
  const words = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts[script] as string).trim().split(/\s+/);
  if (words[0] !== 'node') throw new Error(`package.json's ${script} script does not start with node: ${words.join(' ')}`);
  return words.slice(1);
}

/** The flags of a script's command, without its entry file (with the launcher it runs the entry through). */
export const flagsOf = (args: string[]) => args.slice(0, -1);

/** A command's node options (flags, and the file each `--import` names), apart from the program it runs and that program's arguments. */
export function nodeOptionsOf(args: readonly string[]): { options: string[]; program: string[] } {
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-')) i += args[i] === '--import' || args[i] === '--require' ? 2 : 1;
  return { options: args.slice(0, i), program: args.slice(i) };
}

/** A port the kernel just handed out (and we released): far less likely to collide than a guess. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => done(port));
    });
  });
}

/** Polls `<url>/health/ready` until it answers 200; fails early if `child` exits. */
export async function waitReady(url: string, child?: ChildProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`the process for ${url} exited during start-up`);
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The p-th percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/**
 * A Postgres database of the bench's own on DATABASE_URL's server (default: the local one), and
 * how to drop it (roles and all) when the bench is done. `socketUrl` reaches the same database
 * through the server's Unix socket when the server is on this machine (its
 * `unix_socket_directories` holds the socket for its port): how a deployable on the database's
 * host connects. Over loopback TCP each round trip also runs both ends' TCP stacks on this
 * machine's two cores (docs/benchmarks.md measures both).
 */
export async function benchDatabase(): Promise<{ url: string; socketUrl?: string; drop: () => Promise<void> }> {
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const name = `bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = Object.assign(new URL(adminUrl), { pathname: `/${name}` });
  return {
    url: url.toString(),
    socketUrl: await localSocketUrl(admin, url),
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await admin.end();
    },
  };
}

async function localSocketUrl(admin: pg.Client, url: URL): Promise<string | undefined> {
  if (url.searchParams.has('host') || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return undefined;
  const setting = async (name: string) => String((await admin.query(`SELECT current_setting('${name}') AS v`)).rows[0].v);
  const port = await setting('port');
  const dir = (await setting('unix_socket_directories')).split(',').map((d) => d.trim()).find((d) => d.startsWith('/') && existsSync(join(d, `.s.PGSQL.${port}`)));
  if (!dir) return undefined;
  const socket = new URL(url);
  socket.hostname = 'localhost';
  socket.port = port;
  socket.searchParams.set('host', dir);
  return socket.toString();
}

/** Deletes a bench's BullMQ keys (those matching `pattern`), which BullMQ itself keeps after a run. */
export async function deleteRedisKeys(redisUrl: string, pattern: string): Promise<void> {
  const r = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}
