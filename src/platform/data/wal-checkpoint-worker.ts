// The worker thread behind wal-checkpointer.ts: one connection per watched store file, and a
// PASSIVE checkpoint of each whose WAL was written to since the last look. PASSIVE never waits for
// the store's writer or readers, and a checkpoint cut short by a crash is one SQLite recovers from.
// "Written since" is the WAL file's size or modification time having changed (wal-state.ts).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { walState } from './wal-state.ts';

const { intervalMs } = workerData as { intervalMs: number };
// Two stores on one file in this process (a test, a command beside the app) share a connection.
const watched = new Map<string, { db: Database.Database; stores: number; seen: string }>();

// A watch carries the WAL's state when the store opened: what was written since is checkpointed.
parentPort!.on('message', (m: { op: 'watch' | 'forget'; file: string; id: number; seen?: string }) => {
  try {
    const entry = watched.get(m.file);
    if (m.op === 'watch') {
      if (entry) entry.stores++;
      else {
        const db = new Database(m.file, { fileMustExist: true });
        db.pragma('busy_timeout = 5000');
        watched.set(m.file, { db, stores: 1, seen: m.seen ?? walState(m.file) });
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
