// npm start's build: the entry bundled as an image's bundle is (scripts/extract-bundle.ts), kept
// under node_modules/.cache/start (START_CACHE_DIR) and reused while every source file it was
// built from is unchanged. A warm start then loads a few dozen files instead of ~1,750 (Node
// resolves and reads each source file and package file on its own): about 40% less time to ready
// and ~20 MB less resident (docs/decisions/0030-npm-start-runs-a-cached-build.md).
//
// Freshness is decided by each input's modification time and size, as make does: the bundle's
// source files (from esbuild's metafile), the lockfiles standing for node_modules (esbuild's own
// version among them), this builder, and Node's version. A build in use is never deleted: each build has a folder of
// its own, a record per entry names the current one, and only the oldest folders are pruned.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** What a build was made from: per input (relative to root), its mtime in ms and its size. */
export interface StartBuildRecord {
  entry: string;
  /** The build's folder, inside the cache. */
  build: string;
  node: string;
  inputs: Record<string, [mtimeMs: number, size: number]>;
}

/** Builds kept per entry: older ones are removed when a new one is made. */
const KEEP = 3;
/** Files that change what a build holds without being its inputs. */
const ALWAYS = ['package.json', 'package-lock.json', 'node_modules/.package-lock.json', 'scripts/extract-bundle.ts', 'scripts/start-cache.ts'];

function cacheDir(root: string): string {
  return resolve(root, process.env.START_CACHE_DIR || 'node_modules/.cache/start');
}

const slug = (entry: string) => entry.replace(/[^A-Za-z0-9]+/g, '-');
const recordFile = (dir: string, entry: string) => join(dir, `${slug(entry)}.json`);

/** The mtime and size of each of `paths` under root; a missing file is absent from the answer. */
export function stamps(root: string, paths: readonly string[]): StartBuildRecord['inputs'] {
  const out: StartBuildRecord['inputs'] = {};
  for (const p of paths) {
    try {
      const s = statSync(join(root, p));
      out[p] = [s.mtimeMs, s.size];
    } catch {
      // not there: a record that had it is stale, one that did not still matches
    }
  }
  return out;
}

/**
 * The stamps of a build's inputs, read after the build: a file modified since `startedAt` (ms) may
 * have been read before its change, so its stamp is one no file has, and the next start builds again.
 */
export function stampsAfterBuild(root: string, paths: readonly string[], startedAt: number): StartBuildRecord['inputs'] {
  const out = stamps(root, paths);
  for (const [p, [mtime, size]] of Object.entries(out)) if (mtime >= startedAt) out[p] = [-1, size];
  return out;
}

/** True when every input the record names still has its mtime and size, no file it lacked has appeared, and Node is the same. */
export function isFresh(root: string, record: StartBuildRecord): boolean {
  if (record.node !== process.version) return false;
  const paths = [...new Set([...Object.keys(record.inputs), ...ALWAYS])];
  const now = stamps(root, paths);
  if (Object.keys(now).length !== Object.keys(record.inputs).length) return false;
  return Object.entries(record.inputs).every(([p, [mtime, size]]) => now[p]?.[0] === mtime && now[p]?.[1] === size);
}

/** The current build's entry module for `entry`, if one is recorded and fresh. */
export function freshBuild(root: string, entry: string, dir = cacheDir(root)): string | undefined {
  let record: StartBuildRecord;
  try {
    record = JSON.parse(readFileSync(recordFile(dir, entry), 'utf8')) as StartBuildRecord;
  } catch {
    return undefined;
  }
  return record.entry === entry && isFresh(root, record) ? join(dir, record.build, 'start.mjs') : undefined;
}

/**
 * Builds `entry` into a new folder of the cache and records it as current. Two starts that build
 * at once each make their own folder; the record is replaced whole, so either one wins.
 */
export async function buildForStart(root: string, entry: string, dir = cacheDir(root)): Promise<string> {
  const [{ bundleForStart }, esbuild] = await Promise.all([import('./extract-bundle.ts'), import('esbuild')]);
  // A file saved while the build reads it must leave the record stale, not the build: the files
  // that are not inputs are stamped before it, the inputs after it, against its start.
  const startedAt = Date.now();
  const before = stamps(root, ALWAYS);
  const build = `${slug(entry)}-${Date.now().toString(36)}-${process.pid}`;
  const out = join(dir, build);
  try {
    const { files, inputs } = await bundleForStart(root, entry, out);
    const record: StartBuildRecord = { entry, build, node: process.version, inputs: { ...stampsAfterBuild(root, inputs, startedAt), ...before } };
    for (const [path, content] of files) {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, content);
    }
    const tmp = `${recordFile(dir, entry)}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(record)}\n`);
    renameSync(tmp, recordFile(dir, entry));
  } finally {
    // esbuild answers from a child process of its own; the app should not keep it.
    await esbuild.stop();
  }
  prune(dir, entry);
  return join(out, 'start.mjs');
}

/** Removes all but the newest KEEP builds of `entry` (a process may still run one of those). */
function prune(dir: string, entry: string): void {
  const prefix = `${slug(entry)}-`;
  const builds = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name.startsWith(prefix))
    .map((d) => ({ name: d.name, at: statSync(join(dir, d.name)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const old of builds.slice(KEEP)) rmSync(join(dir, old.name), { recursive: true, force: true });
}
