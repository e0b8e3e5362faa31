// `npm run extract` is careful with what is not its own: a typo stops it before it reads anything,
// a failure at any point leaves every file as it was, the env file it wrote once is the user's,
// the addresses and Postgres settings it writes are the ones in force, and the JSON files it edits
// keep their formatting. Real command runs against temporary copies; one failure injected in-process.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/processes.ts';
import { manifests } from '../../src/manifests.ts';
import { moduleRole, rolePrefix } from '../../src/platform/data/module-roles.ts';
import { runExtract } from '../../scripts/extract-core.ts';
import { realIo } from '../../scripts/extract-writes.ts';
import { bundleDeployable } from '../../scripts/extract-bundle.ts';

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'extract-careful-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Hand-formatted, as a person keeps them: four-space indents, inline lists, a route of their own.
const handTopology = `{
    "$comment": "ours",
    "monolith": { "urls": ["http://127.0.0.1:4000"] },
    "modules": {}
}
`;
const handProxy = `{
  "pools": {
    "monolith": { "instances": ["http://127.0.0.1:3000"], "balance": "least-connections" },
    "legacy": { "instances": ["http://127.0.0.1:3999"] }
  },
  "defaultPool": "monolith",
  "routes": [
    { "name": "legacy", "prefix": "/legacy", "old": "monolith", "new": "legacy", "weight": 30 }
  ]
}
`;

let home: string;
let paths: { topology: string; proxy: string; deploy: string };
beforeEach(() => {
  home = mkdtempSync(join(scratch, 'case-'));
  paths = { topology: join(home, 'topology.json'), proxy: join(home, 'proxy.json'), deploy: join(home, 'deploy') };
  writeFileSync(paths.topology, handTopology);
  writeFileSync(paths.proxy, handProxy);
});

async function extract(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const withPaths = [...args, '--topology', paths.topology, '--proxy-config', paths.proxy, '--deploy-dir', paths.deploy];
  try {
    const { stdout, stderr } = await run(process.execPath, [join(repoRoot, 'scripts/extract.ts'), ...withPaths], { cwd: repoRoot, env: { ...process.env, ...env } });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Every file under the case folder with its bytes: "nothing changed" means this is equal before and after. */
function snapshot(dir = home): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) Object.assign(out, snapshot(path));
    else out[path] = readFileSync(path, 'base64');
  }
  return out;
}

describe('extract refuses what it does not understand', () => {
  it('stops at a misspelt flag with the usage and exit 64, before reading or writing anything', async () => {
    const before = snapshot();
    for (const args of [['payments', '--unod'], ['payments', '-undo'], ['payments', '--finish=yes'], ['payments', 'orders'], ['payments', '--finish', '--undo']]) {
      const r = await extract(args);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.out).toMatch(/usage: npm run extract -- <module>/);
    }
    expect(snapshot()).toEqual(before);
  });

  it('refuses when the proxy config is missing, and leaves the topology and the deploy folder untouched', async () => {
    rmSync(paths.proxy);
    const before = snapshot();
    const r = await extract(['payments']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/proxy config .* does not exist/);
    expect(r.out).toMatch(/Nothing was written/);
    expect(snapshot()).toEqual(before);
    expect(existsSync(paths.deploy)).toBe(false);
  });
});

describe('extract applies all of its changes or none', () => {
  it('puts every file back when the last write fails', async () => {
    // A first extract, so the failing one has both new files to remove and old ones to restore.
    const options = {
      module: 'payments',
      root: repoRoot,
      topologyFile: paths.topology,
      proxyConfig: paths.proxy,
      deployDir: paths.deploy,
      manifests,
      env: {},
      log: () => {},
      boundaryFindings: async () => [],
      bundle: async (module: string, outDir: string) => (await bundleDeployable({ root: repoRoot, kind: 'service', module, outDir: join(outDir, '..') })).files,
    };
    expect((await runExtract({ ...options, action: 'extract' })).exitCode).toBe(0);
    const before = snapshot();
    // Count the writes of a --finish with a file system that writes nothing, then run it again
    // failing at the last one.
    let writes = 0;
    await runExtract({ ...options, action: 'finish', io: { write: () => void writes++, remove: () => {} } });
    expect(snapshot()).toEqual(before);
    expect(writes).toBeGreaterThan(2);
    let n = 0;
    const failingLast = {
      write(path: string, bytes: Uint8Array, mode?: number) {
        if (++n === writes) throw new Error('disk full');
        realIo.write(path, bytes, mode);
      },
      remove: realIo.remove,
    };
    await expect(runExtract({ ...options, action: 'finish', io: failingLast })).rejects.toThrow('disk full');
    expect(n).toBe(writes);
    expect(snapshot()).toEqual(before);
  }, 120_000);
});

describe('the env file is written once and is the user’s after that', () => {
  it('keeps an edited env file and reports how it differs from what extract would write now', async () => {
    expect((await extract(['payments'])).code).toBe(0);
    const envPath = join(paths.deploy, 'payments/payments.env');
    const edited = readFileSync(envPath, 'utf8').replace(/^DATA_DIR=.*$/m, 'DATA_DIR=/srv/ours').concat('EXTRA=1\n');
    writeFileSync(envPath, edited);
    const r = await extract(['payments']);
    expect(r.code, r.out).toBe(0);
    expect(readFileSync(envPath, 'utf8')).toBe(edited);
    expect(r.out).toMatch(/payments\.env is yours and was kept/);
    expect(r.out).toMatch(/DATA_DIR: yours \/srv\/ours, now \.\/data/);
    expect(r.out).toMatch(/EXTRA: yours 1, now \(not set\)/);
    expect(r.out).not.toMatch(/✎ wrote .*payments\.env/);
  }, 60_000);

  it('writes the secrets once, readable by its owner only, and never again', async () => {
    expect((await extract(['payments'])).code).toBe(0);
    const secrets = join(paths.deploy, 'system/secrets.env');
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    const first = readFileSync(secrets, 'utf8');
    expect(first).toMatch(/^JWT_SECRET=\S{32,}$/m);
    expect(first).toMatch(/^PG_PASSWORD_PAYMENTS=\S{32,}$/m);
    expect((await extract(['payments', '--undo'])).code).toBe(0);
    expect(readFileSync(secrets, 'utf8')).toBe(first);
  }, 60_000);
});

describe('extract writes the settings in force', () => {
  it('takes the addresses from MONOLITH_URLS and MODULE_<NAME>_URLS over the topology file', async () => {
    const r = await extract(['payments'], { MONOLITH_URLS: 'http://monolith-a:4000,http://monolith-b:4000', MODULE_PAYMENTS_URLS: 'http://pay-1:4103,pay-2:4103' });
    expect(r.code, r.out).toBe(0);
    const env = readFileSync(join(paths.deploy, 'payments/payments.env'), 'utf8');
    expect(env).toMatch(/^MONOLITH_URLS=http:\/\/monolith-a:4000,http:\/\/monolith-b:4000$/m);
    const proxy = JSON.parse(readFileSync(paths.proxy, 'utf8')) as { pools: Record<string, { instances: string[] }> };
    // The proxy reaches the public listeners of the instances in force.
    expect(proxy.pools.payments!.instances).toEqual(['http://pay-1:3103', 'http://pay-2:3103']);
  }, 60_000);

  it('shows the real Postgres settings: the role the module connects as and the variable its password comes from', async () => {
    const url = 'postgres://admin:secret@db.internal:5432/shop';
    const r = await extract(['payments'], { DATABASE_URL: url });
    expect(r.code, r.out).toBe(0);
    const env = readFileSync(join(paths.deploy, 'payments/payments.env'), 'utf8');
    const role = moduleRole(rolePrefix(url), 'payments');
    expect(role).toBe('shop_module_payments');
    expect(env).toMatch(new RegExp(`^DATABASE_URL=postgres://${role}@db\\.internal:5432/shop$`, 'm'));
    expect(env).toMatch(/PG_PASSWORD_PAYMENTS=/);
    expect(env).not.toMatch(/secret/);
  }, 60_000);
});

describe('the files extract edits keep their formatting', () => {
  it('changes only what it must in a hand-formatted topology and proxy config, and --undo gives back the very same bytes', async () => {
    expect((await extract(['payments'])).code).toBe(0);
    const topology = readFileSync(paths.topology, 'utf8');
    const proxy = readFileSync(paths.proxy, 'utf8');
    // What was there is still written as it was.
    expect(topology).toContain('    "$comment": "ours",\n    "monolith": { "urls": ["http://127.0.0.1:4000"] },');
    expect(topology).toMatch(/"payments": \{\n {12}"state": "migrating",\n {12}"urls": \["http:\/\/127\.0\.0\.1:4103"\]\n {8}\}/);
    expect(proxy).toContain('"monolith": { "instances": ["http://127.0.0.1:3000"], "balance": "least-connections" },');
    expect(proxy).toContain('{ "name": "legacy", "prefix": "/legacy", "old": "monolith", "new": "legacy", "weight": 30 },');
    expect((await extract(['payments', '--finish'])).code).toBe(0);
    expect(readFileSync(paths.topology, 'utf8')).toBe(topology.replace('"state": "migrating"', '"state": "remote"'));
    expect((await extract(['payments', '--undo'])).code).toBe(0);
    expect(readFileSync(paths.topology, 'utf8')).toBe(handTopology.replace('"modules": {}', '"modules": {}'));
    expect(readFileSync(paths.proxy, 'utf8')).toBe(handProxy);
  }, 90_000);
});
