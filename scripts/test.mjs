#!/usr/bin/env node
// `npm test`: finds Postgres and Redis (DATABASE_URL / REDIS_URL, default localhost), starts
// throwaway ones from the installed binaries where nothing answers, then runs every test with
// vitest. It never skips: if neither a server nor the binaries are there, it says what to install.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, chownSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const pgUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const cleanups = [];

function reachable(url, defaultPort) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: u.hostname, port: Number(u.port || defaultPort) });
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

function which(bin) {
  const found = spawnSync('sh', ['-c', `command -v ${bin} || ls /usr/lib/postgresql/*/bin/${bin} 2>/dev/null | tail -n 1`], { encoding: 'utf8' });
  return found.stdout.trim().split('\n').filter(Boolean).pop();
}

async function waitFor(check, what, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not come up within ${ms / 1000}s`);
}

async function startThrowawayPostgres() {
  const initdb = which('initdb');
  const pgCtl = which('pg_ctl');
  if (!initdb || !pgCtl) {
    fail(`No PostgreSQL answers at ${pgUrl} and initdb/pg_ctl are not installed.\n` +
      `Install PostgreSQL (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL to a server you can use.`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'test-pg-'));
  const port = 54329;
  // initdb refuses to run as root; use the postgres system user where we are root.
  const asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  if (asUser.length) chownSync(dir, Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout), Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout));
  const run = (cmd, args) => {
    const r = spawnSync(asUser[0] ?? cmd, [...asUser.slice(1), ...(asUser.length ? [cmd] : []), ...args], { stdio: 'inherit' });
    if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed`);
  };
  console.log(`[test] no PostgreSQL at ${pgUrl}; starting a throwaway one in ${dir} on port ${port}`);
  run(initdb, ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  run(pgCtl, ['-D', join(dir, 'data'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`, '-l', join(dir, 'log'), 'start', '-w']);
  cleanups.push(() => {
    spawnSync(asUser[0] ?? pgCtl, [...asUser.slice(1), ...(asUser.length ? [pgCtl] : []), '-D', join(dir, 'data'), 'stop', '-m', 'immediate'], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitFor(() => reachable(url, 5432), 'throwaway PostgreSQL');
  return url;
}

async function startThrowawayRedis() {
  const bin = which('redis-server');
  if (!bin) fail(`No Redis answers at ${redisUrl} and redis-server is not installed.\nInstall Redis (Debian/Ubuntu: apt-get install redis-server) or set REDIS_URL.`);
  const dir = mkdtempSync(join(tmpdir(), 'test-redis-'));
  const port = 63799;
  console.log(`[test] no Redis at ${redisUrl}; starting a throwaway one on port ${port}`);
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  cleanups.push(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(() => reachable(url, 6379), 'throwaway Redis');
  return url;
}

function fail(message) {
  console.error(`\n[test] ${message}\n`);
  for (const c of cleanups.reverse()) c();
  process.exit(1);
}

const env = { ...process.env };
env.TEST_DATABASE_URL = (await reachable(pgUrl, 5432)) ? pgUrl : await startThrowawayPostgres();
env.TEST_REDIS_URL = (await reachable(redisUrl, 6379)) ? redisUrl : await startThrowawayRedis();
// The tests decide per app which engine and bus to use; do not let the caller's shell leak in.
delete env.DATABASE_URL;
delete env.REDIS_URL;
delete env.BUS;
console.log(`[test] PostgreSQL: ${env.TEST_DATABASE_URL}  Redis: ${env.TEST_REDIS_URL}`);

const vitest = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...process.argv.slice(2)], { stdio: 'inherit', env });
const forward = (sig) => vitest.kill(sig);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
vitest.on('exit', (code, signal) => {
  for (const c of cleanups.reverse()) c();
  process.exit(code ?? (signal ? 1 : 0));
});
