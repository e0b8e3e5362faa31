// All or nothing: extract works out every file it will change first, and only then writes them.
// Each file is replaced atomically (a sibling written, then renamed over it), and if any write
// fails every file already written gets its old content back (or goes, if it was new), and every
// folder made for them is removed: a failed extract leaves the working tree as it found it.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface FileChange {
  path: string;
  /** New content; null removes the file. */
  content: string | Uint8Array | null;
  /** File mode for a new file (secrets are 0600). */
  mode?: number;
}

/** The file system as the writer uses it: a test swaps one call to make a write fail. */
export interface WriteIo {
  write(path: string, bytes: Uint8Array, mode?: number): void;
  remove(path: string): void;
}

export const realIo: WriteIo = {
  write(path, bytes, mode) {
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, bytes, mode === undefined ? undefined : { mode });
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  },
  remove(path) {
    unlinkSync(path);
  },
};

/** Only the changes that change something: same bytes, or removing what is not there, are dropped. */
export function effective(changes: readonly FileChange[]): FileChange[] {
  return changes.filter((c) => {
    if (c.content === null) return existsSync(c.path);
    return !existsSync(c.path) || Buffer.compare(readFileSync(c.path), toBytes(c.content)) !== 0;
  });
}

export function applyAll(changes: readonly FileChange[], io: WriteIo = realIo): void {
  const undo: (() => void)[] = [];
  try {
    for (const change of changes) {
      const before = existsSync(change.path) ? { bytes: readFileSync(change.path), mode: statSync(change.path).mode & 0o777 } : undefined;
      if (change.content === null) {
        io.remove(change.path);
      } else {
        const made = mkdirSync(dirname(change.path), { recursive: true });
        if (made) undo.push(() => rmSync(made, { recursive: true, force: true }));
        io.write(change.path, toBytes(change.content), change.mode);
      }
      undo.push(() => (before ? realIo.write(change.path, before.bytes, before.mode) : rmSync(change.path, { force: true })));
    }
  } catch (err) {
    for (const step of undo.reverse()) step();
    throw err;
  }
}

function toBytes(content: string | Uint8Array): Buffer {
  return typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
}
