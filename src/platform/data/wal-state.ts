// Whether a store's WAL was written since a last look. Its size says nothing once it fills up
// (SQLite rewinds it and writes over it without shrinking it), so "written since" is its size or
// modification time having changed; a commit that changed nothing writes no frame and changes neither.
// An empty WAL (SQLite creates it at the first read) holds nothing to checkpoint, as a missing one.
import { statSync } from 'node:fs';

/** The WAL file's size and modification time, '' while it does not exist or is empty. */
export function walState(file: string): string {
  try {
    const s = statSync(`${file}-wal`);
    return s.size === 0 ? '' : `${s.size}:${s.mtimeMs}`;
  } catch {
    return '';
  }
}
