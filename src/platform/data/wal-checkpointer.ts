// SQLite checkpoints the WAL into the database file from inside the commit that crosses its
// threshold, with an fsync of each file: in the bus bench that was ~60% of the time spent in
// COMMIT, a few milliseconds at a time on the event loop. SQLite stores hand their checkpoints to
// one worker thread per process instead, which checkpoints with a connection of its own. The
// writer keeps a far higher automatic threshold of its own, so the WAL stays bounded even if the
// worker falls behind or is gone.
// The worker starts with the first commit that writes to a WAL, not when a store opens: a thread
// is a Node isolate of its own (~10 MB resident), and a process that has only read so far (a warm
// start, whose seeding finds its rows there; a read-mostly service) has no WAL to checkpoint.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { walState } from './wal-state.ts';

/** How often the worker looks for WAL written since its last checkpoint. */
const INTERVAL_MS = 100;
/**
 * Pages of WAL past which the writer checkpoints by itself. Under sustained writes the worker's
 * PASSIVE checkpoints keep up with copying but never see the WAL idle, and SQLite only rewinds a
 * WAL at the start of a write transaction once it is fully checkpointed: this is what rewinds it
 * then, cheaply, since the worker has already copied nearly every frame (~8 MB at 4 KiB pages).
 */
export const WRITER_FALLBACK_PAGES = 2_000;
/** The size a rewound WAL file is truncated back to, so one burst does not keep a large file. */
export const WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024;

let worker: Worker | undefined;
let nextId = 0;
const replies = new Map<number, (error?: string) => void>();

function ask(w: Worker, op: 'watch' | 'forget', file: string, seen?: string): Promise<void> {
  const id = ++nextId;
  // Held while a reply is awaited: a process whose last act is closing a store must not exit
  // before the worker answers.
  w.ref();
  return new Promise((resolve, reject) => {
    replies.set(id, (error) => (error ? reject(new Error(error)) : resolve()));
    w.postMessage({ op, file, id, seen });
  });
}

function settle(w: Worker, id: number, error?: string): void {
  replies.get(id)?.(error);
  replies.delete(id);
  if (replies.size === 0) w.unref();
}

/** The worker's source beside this file, or, in an extracted service's bundle, its own bundle. */
function workerFile(): URL {
  const source = new URL('./wal-checkpoint-worker.ts', import.meta.url);
  return existsSync(fileURLToPath(source)) ? source : new URL('./wal-checkpoint-worker.mjs', import.meta.url);
}

function start(): Worker {
  const w = new Worker(workerFile(), { workerData: { intervalMs: INTERVAL_MS } });
  // Otherwise it must never keep a process alive that is done; it lives as long as the process.
  w.unref();
  w.on('message', (m: { id: number; error?: string }) => settle(w, m.id, m.error));
  w.on('exit', () => {
    // Gone without an error event: nothing will answer, so settle what waits; start afresh next time.
    if (worker === w) worker = undefined;
    for (const id of [...replies.keys()]) settle(w, id);
  });
  w.on('error', (err: Error) => {
    // The writers' fallback threshold takes over; the next store opened starts a fresh worker.
    process.emitWarning(`SQLite background checkpoints unavailable (${err.message}); commits checkpoint by themselves past ${WRITER_FALLBACK_PAGES} pages`);
    if (worker === w) worker = undefined;
    for (const id of [...replies.keys()]) settle(w, id);
  });
  return w;
}

export interface BackgroundCheckpoints {
  /** True until a commit has written to the WAL: until then each commit should be reported. */
  readonly waiting: boolean;
  /** Reports a settled commit: the first that wrote to the WAL starts watching the file. */
  committed(): void;
  /** Resolves once the worker has closed its connection to the file; later commits start nothing. */
  stop(): Promise<void>;
}

/** Whether the worker thread is running: for tests, which prove it waits for a write. */
export function checkpointWorkerRunning(): boolean {
  return worker !== undefined;
}

/** Background checkpoints for `file`, whose writer connection is open (in WAL mode). */
export function checkpointInBackground(file: string): BackgroundCheckpoints {
  const atOpen = walState(file);
  let watching: { w: Worker; answered: Promise<void> } | undefined;
  let stopped = false;
  const checkpoints = {
    get waiting() {
      return watching === undefined && !stopped;
    },
    committed() {
      if (!checkpoints.waiting || walState(file) === atOpen) return;
      worker ??= start();
      const w = worker;
      const answered = ask(w, 'watch', file, atOpen).catch((err: Error) =>
        process.emitWarning(`SQLite background checkpoints unavailable for ${file} (${err.message}); its commits checkpoint by themselves past ${WRITER_FALLBACK_PAGES} pages`),
      );
      watching = { w, answered };
    },
    async stop() {
      stopped = true;
      if (!watching) return;
      const { w, answered } = watching;
      await answered;
      if (worker === w) await ask(w, 'forget', file).catch(() => {});
    },
  };
  return checkpoints;
}
