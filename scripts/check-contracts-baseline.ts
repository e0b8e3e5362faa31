// What `--against` names: a snapshot file, or a git ref whose contracts are read from its source.
//
// For a ref, the tree is extracted with `git archive` into a temporary folder (the repository's
// worktrees, index and branches are untouched) and its src/manifests.ts is loaded in a child
// process with today's node_modules. Reading the source rather than the snapshot committed at the
// ref sees every operation the ref really had, even one added and removed without a snapshot
// update in between. Where that source no longer loads with today's packages, the snapshot
// committed at the ref is used instead, and the report says so.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSnapshot, readSnapshot, type ModuleContracts } from './check-contracts-snapshot.ts';

export interface Baseline {
  /** What was compared with, for the report: `contracts/snapshot.json`, `the source at v1.2.0`. */
  label: string;
  contracts: ModuleContracts;
  /** Anything the reader of the report should know about how the baseline was read. */
  notes: string[];
}

/** A mistake in how the check was called (exit code 2), as opposed to a breaking change (1). */
export class UsageError extends Error {}

const READ_TREE = fileURLToPath(new URL('./check-contracts-read-tree.ts', import.meta.url));
export const SNAPSHOT_PATH = 'contracts/snapshot.json';

export function loadBaseline(against: string, root: string, cwd = process.cwd()): Baseline {
  const file = resolve(cwd, against);
  if (existsSync(file) && statSync(file).isFile()) return { label: against, contracts: readSnapshot(file).modules, notes: [] };
  const commit = resolveCommit(root, against);
  if (!commit) throw new UsageError(`--against ${against}: neither a snapshot file nor a git ref of ${root}`);
  return contractsAtCommit(root, against, commit);
}

function resolveCommit(root: string, ref: string): string | undefined {
  const r = spawnSync('git', ['-C', root, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function contractsAtCommit(root: string, ref: string, commit: string): Baseline {
  const tree = mkdtempSync(join(tmpdir(), 'contracts-at-ref-'));
  try {
    const tar = execFileSync('git', ['-C', root, 'archive', '--format=tar', commit], { maxBuffer: 1024 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', tree], { input: tar });
    if (existsSync(join(root, 'node_modules')) && !existsSync(join(tree, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'), 'dir');
    const child = spawnSync(process.execPath, [READ_TREE, tree], { cwd: tree, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    if (child.status === 0) return { label: `the source at ${ref}`, contracts: JSON.parse(child.stdout) as ModuleContracts, notes: [] };
    const why = errorLine(child.stderr);
    const committed = spawnSync('git', ['-C', root, 'show', `${commit}:${SNAPSHOT_PATH}`], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    if (committed.status !== 0) throw new UsageError(`cannot read the contracts at ${ref}: its source did not load (${why}) and it has no ${SNAPSHOT_PATH}`);
    return {
      label: `${SNAPSHOT_PATH} as committed at ${ref}`,
      contracts: parseSnapshot(committed.stdout, `${SNAPSHOT_PATH} at ${ref}`).modules,
      notes: [`the source at ${ref} did not load with today's packages (${why}), so its committed snapshot was used`],
    };
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

function errorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  // Node prints the throwing source line before the error itself; the error names the cause.
  return lines.find((l) => /^[A-Za-z]*Error( \[[A-Z_]+\])?:/.test(l)) ?? lines[0] ?? 'no output';
}
