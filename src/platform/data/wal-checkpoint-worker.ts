// The worker thread behind wal-checkpointer.ts: one connection per watched store file, and a
// PASSIVE checkpoint of each whose WAL has grown past the threshold. PASSIVE never waits for the
// store's writer or readers, and a checkpoint cut short by a crash is one SQLite recovers from.
import { parentPort, workerData } from 'node:worker_threads';
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';

const { thresholdBytes, intervalMs } = workerData as { thresholdBytes: number; intervalMs: number };
const watched = new Map<string, Database.Database>();

function walBytes(file: string): number {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}

parentPort!.on('message', (m: { op: 'watch' | 'forget'; file: string; id: number }) => {
  try {
    if (m.op === 'watch' && !watched.has(m.file)) {
      const db = new Database(m.file, { fileMustExist: true });
      db.pragma('busy_timeout = 5000');
      watched.set(m.file, db);
    } else if (m.op === 'forget') {
      watched.get(m.file)?.close();
      watched.delete(m.file);
    }
    parentPort!.postMessage({ id: m.id });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: (err as Error).message });
  }
});

setInterval(() => {
  for (const [file, db] of watched) {
    if (walBytes(file) < thresholdBytes) continue;
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy or closing: the next tick tries again, and the writer's own fallback bounds the WAL.
    }
  }
}, intervalMs);
