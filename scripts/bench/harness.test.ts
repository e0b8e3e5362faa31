// The benches' own Postgres database: reachable over TCP always, and over the server's Unix socket
// when the server runs on this machine (the orders bench runs its Postgres row there, decision 26);
// and a start command parted into node's options and the program, as the benches insert options.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { benchDatabase, nodeOptionsOf, scriptArgs } from './harness.ts';
import { adminUrl } from '../../test/support/databases.ts';

const saved = process.env.DATABASE_URL;
afterAll(() => {
  if (saved === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = saved;
});

async function where(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query(`SELECT current_database() AS db, inet_server_addr() AS addr, current_setting('unix_socket_directories') AS dirs, current_setting('port') AS port`);
    return rows[0] as { db: string; addr: string | null; dirs: string; port: string };
  } finally {
    await c.end();
  }
}

describe('benchDatabase', () => {
  it('creates a database of its own, over TCP and, where the server has a socket on this machine, over that socket', async () => {
    process.env.DATABASE_URL = adminUrl();
    const database = await benchDatabase();
    try {
      const tcp = await where(database.url);
      expect(tcp.db).toMatch(/^bench_[0-9a-f]{8}$/);
      expect(tcp.addr).not.toBeNull();
      const sockets = tcp.dirs.split(',').map((d) => d.trim()).filter((d) => d.startsWith('/') && existsSync(join(d, `.s.PGSQL.${tcp.port}`)));
      if (sockets.length === 0) {
        // Nothing to reach it by on this machine: the bench then runs its Postgres row over TCP.
        expect(database.socketUrl).toBeUndefined();
        return;
      }
      const viaSocket = await where(database.socketUrl!);
      expect(viaSocket.db).toBe(tcp.db);
      expect(viaSocket.addr).toBeNull(); // a Unix-socket connection has no server address
    } finally {
      await database.drop();
    }
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    const left = await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [new URL(database.url).pathname.slice(1)]);
    await admin.end();
    expect(left.rowCount).toBe(0);
  });
});

describe('nodeOptionsOf', () => {
  it("parts npm start's command into node's options and the launcher with its entry", () => {
    expect(nodeOptionsOf(scriptArgs('start'))).toEqual({
      options: ['--max-semi-space-size=8', '--import', './src/platform/kernel/compile-cache-preload.mjs'],
      program: ['scripts/start.ts', 'src/main.ts'],
    });
    expect(nodeOptionsOf(['--require', 'x.cjs', '--enable-source-maps', 'a.ts', 'b'])).toEqual({ options: ['--require', 'x.cjs', '--enable-source-maps'], program: ['a.ts', 'b'] });
  });
});
