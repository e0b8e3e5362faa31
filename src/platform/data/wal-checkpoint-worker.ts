// The worker thread behind wal-checkpointer.ts: one connection per watched store file, and a
// PASSIVE checkpoint of each whose WAL was written to since the last look. PASSIVE never waits for
// the store's writer or readers, and a checkpoint cut short by a crash is one SQLite recovers from.
// The WAL file's size says nothing once it fills up (SQLite rewinds it and writes over it without
// shrinking it), so "written since" is its size or modification time having changed.
import { parentPort, workerData } from 'node:worker_threads';
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';

const { intervalMs } = workerData as { intervalMs: number };
// Two stores on one file in this process (a test, a command beside the app) share a connection.
const watched = new Map<string, { db: Database.Database; stores: number; seen: string }>();

function walState(file: string): string {
  try {
    const s = statSync(`${file}-wal`);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return '';
  }
}

parentPort!.on('message', (m: { op: 'watch' | 'forget'; file: string; id: number }) => {
  try {
    const entry = watched.get(m.file);
    if (m.op === 'watch') {
      if (entry) entry.stores++;
      else {
        const db = new Database(m.file, { fileMustExist: true });
        db.pragma('busy_timeout = 5000');
        watched.set(m.file, { db, stores: 1, seen: walState(m.file) });
      }
    } else if (entry && --entry.stores === 0) {
      entry.db.close();
      watched.delete(m.file);
    }
    parentPort!.postMessage({ id: m.id });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: (err as Error).message });
  }
});

setInterval(() => {
  for (const [file, entry] of watched) {
    const now = walState(file);
    if (now === entry.seen) continue;
    try {
      entry.db.pragma('wal_checkpoint(PASSIVE)');
      entry.seen = now;
    } catch {
      // Busy or closing: the next look tries again, and the writer's own fallback bounds the WAL.
    }
  }
}, intervalMs);
