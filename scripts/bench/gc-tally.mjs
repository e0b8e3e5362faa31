// Preloaded (`node --import`) by the kernel bench into the servers it compares young-generation
// sizes on: adds up the main thread's garbage collections (count, and pause time from Node's
// `gc` performance entries) and, on SIGUSR2, writes the running totals to
// <tmpdir>/gc-tally-<pid>.json for the bench to read before and after a load run.
import { PerformanceObserver } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  const totals = { count: 0, ms: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      totals.count++;
      totals.ms += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('SIGUSR2', () => writeFileSync(join(tmpdir(), `gc-tally-${process.pid}.json`), JSON.stringify(totals)));
}
