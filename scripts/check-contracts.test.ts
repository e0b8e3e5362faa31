// The check:contracts command end to end, on a small source tree of its own (one module, one
// operation, one event) in a temporary git repository, so the tests do not move with the real
// contracts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const repoRoot = resolve(import.meta.dirname, '..');
const cli = join(repoRoot, 'scripts', 'check-contracts.ts');

let tree: string;

function writeManifests(body: { input?: string; event?: string; extra?: string }): void {
  writeFileSync(
    join(tree, 'src', 'manifests.ts'),
    `import { z } from 'zod';
${body.extra ?? ''}
export const manifests = [{
  name: 'shop',
  contract: {
    operations: { placeOrder: { input: ${body.input ?? 'z.object({ sku: z.string() })'}, output: z.object({ id: z.string() }), idempotent: true } },
    errors: [{ code: 'OutOfStock' }],
  },
  publishes: [{ type: 'OrderPlaced', version: 1, schema: ${body.event ?? 'z.object({ id: z.string() })'} }],
}];
`,
  );
}

function check(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, '--root', tree, ...args], { cwd: tree, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function git(...args: string[]): string {
  const r = spawnSync('git', ['-C', tree, '-c', 'user.email=test@example.com', '-c', 'user.name=test', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const snapshot = () => JSON.parse(readFileSync(join(tree, 'contracts', 'snapshot.json'), 'utf8')) as { reason: string; accepted: string[]; modules: Record<string, unknown> };

beforeEach(() => {
  tree = mkdtempSync(join(tmpdir(), 'contracts-cli-'));
  mkdirSync(join(tree, 'src'));
  writeFileSync(join(tree, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  writeFileSync(join(tree, '.gitignore'), 'node_modules\n');
  symlinkSync(join(repoRoot, 'node_modules'), join(tree, 'node_modules'), 'dir');
  writeManifests({});
});

afterEach(() => rmSync(tree, { recursive: true, force: true }));

describe('check:contracts against the committed snapshot', () => {
  it('exits 2 and says how to create the snapshot when there is none', () => {
    const r = check();
    expect(r.code).toBe(2);
    expect(r.err).toContain('--update-snapshot --reason');
  });

  it('refuses to update the snapshot without a reason (exit 2)', () => {
    const r = check('--update-snapshot');
    expect(r.code).toBe(2);
    expect(r.err).toContain('needs --reason');
  });

  it('exits 2 on an unknown option', () => {
    expect(check('--bogus').code).toBe(2);
  });

  it('records the contracts with the reason, then passes while nothing changed', () => {
    expect(check('--update-snapshot', '--reason', 'first record').code).toBe(0);
    expect(snapshot().reason).toBe('first record');
    expect(snapshot().accepted).toEqual([]);
    expect(Object.keys(snapshot().modules)).toEqual(['shop']);
    const r = check();
    expect(r.code).toBe(0);
    expect(r.out).toContain('every contract and event is compatible with contracts/snapshot.json');
  });

  it('exits 1 naming each breaking change, and tells how to record an intended one', () => {
    check('--update-snapshot', '--reason', 'first record');
    writeManifests({ input: 'z.object({ sku: z.string().max(10), note: z.string() })', event: 'z.object({ id: z.number() })' });
    const r = check();
    expect(r.code).toBe(1);
    expect(r.out).toContain('3 breaking change(s) against contracts/snapshot.json');
    expect(r.out).toContain('shop operation placeOrder input $.note: new required field. Instead:');
    expect(r.out).toContain('shop operation placeOrder input $.sku: maxLength added: 10. Instead:');
    expect(r.out).toContain('shop event OrderPlaced.v1 $.id: type changed from string to number. Instead: publish OrderPlaced v2');
    expect(r.out).toContain('npm run check:contracts -- --update-snapshot --reason');
  });

  it('passes a compatible change and lists it as not yet in the snapshot', () => {
    check('--update-snapshot', '--reason', 'first record');
    writeManifests({ input: 'z.object({ sku: z.string(), note: z.string().optional() })' });
    const r = check();
    expect(r.code).toBe(0);
    expect(r.out).toContain('shop operation placeOrder input: schema changed compatibly');
    expect(r.out).toContain('not in the snapshot yet');
  });

  it('accepts an intended break when the snapshot is updated with a reason, and keeps the break in the file', () => {
    check('--update-snapshot', '--reason', 'first record');
    writeManifests({ input: 'z.object({ sku: z.string(), note: z.string() })' });
    const update = check('--update-snapshot', '--reason', 'every caller sends a note since the checkout release');
    expect(update.code).toBe(0);
    expect(update.out).toContain('accepted 1 breaking change(s)');
    expect(snapshot().reason).toBe('every caller sends a note since the checkout release');
    expect(snapshot().accepted).toEqual([expect.stringContaining('shop operation placeOrder input $.note: new required field')]);
    expect(check().code).toBe(0);
  });

  it('compares with a snapshot file named by --against', () => {
    check('--update-snapshot', '--reason', 'first record');
    copyFileSync(join(tree, 'contracts', 'snapshot.json'), join(tree, 'release-1.json'));
    writeManifests({ input: 'z.object({ sku: z.enum(["MUG"]) })' });
    const r = check('--against', 'release-1.json');
    expect(r.code).toBe(1);
    expect(r.out).toContain('against release-1.json');
    expect(r.out).toContain('shop operation placeOrder input $.sku: changed from any string to one of "MUG"');
  });

  it('exits 2 when --against names neither a file nor a git ref', () => {
    const r = check('--against', 'no-such-release');
    expect(r.code).toBe(2);
    expect(r.err).toContain('neither a snapshot file nor a git ref');
  });
});

describe('check:contracts --against a git ref', () => {
  beforeEach(() => {
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'shop v1');
    git('tag', 'v1');
  });

  it("reads the contracts from the ref's source and names a break made since", () => {
    writeManifests({ event: 'z.object({ id: z.string(), total: z.number() })' });
    git('commit', '-q', '-am', 'shop v2: OrderPlaced carries a total');
    const r = check('--against', 'v1');
    expect(r.code).toBe(1);
    expect(r.out).toContain('against v1');
    expect(r.out).toContain('shop event OrderPlaced.v1 $.total: new required field. Instead: publish OrderPlaced v2');
    expect(check('--against', 'HEAD').code).toBe(0);
    // Reading a ref leaves the repository as it was: no worktree, nothing staged.
    expect(git('worktree', 'list').trim().split('\n')).toHaveLength(1);
    expect(git('status', '--porcelain').trim()).toBe('');
  });

  it('passes a compatible change against the ref', () => {
    writeManifests({ event: 'z.object({ id: z.string() })', input: 'z.object({ sku: z.string(), gift: z.boolean().optional() })' });
    const r = check('--against', 'v1');
    expect(r.code).toBe(0);
    expect(r.out).toContain('every contract and event is compatible with v1');
  });

  it('falls back to the snapshot committed at the ref when its source no longer loads, and says so', () => {
    check('--update-snapshot', '--reason', 'release 2');
    writeManifests({ extra: "throw new Error('this tree needs a package that is gone');" });
    git('add', '-A');
    git('commit', '-q', '-m', 'release 2 with a tree that does not load today');
    writeManifests({ input: 'z.object({ sku: z.string().min(3) })' });
    const r = check('--against', 'HEAD');
    expect(r.code).toBe(1);
    expect(r.out).toContain('note: the source at HEAD did not load with today\'s packages (Error: this tree needs a package that is gone)');
    expect(r.out).toContain('against HEAD');
    expect(r.out).toContain('shop operation placeOrder input $.sku: minLength added: 3');
  });
});
