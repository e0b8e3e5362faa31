// Periodic work of the modules and of the kernel itself, run on one schedule: a job never
// overlaps itself (a slow run makes the next one wait, not pile up), a failure is logged and
// counted and the schedule goes on, and stop waits for runs in progress before stores close,
// telling them it is stopping (an aborted signal) so a long one can end at its next step.
// A job runs every `everyMs`, the first time after `firstRunMs` when it gives one.
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { Job } from '../modules/define-module.ts';

export interface OwnedJob {
  /** The module the job belongs to, or `platform`. */
  owner: string;
  job: Job;
}

export interface JobScheduler {
  start(): void;
  /** Runs one job now (a module test's "advance the clock, then let the sweep run"). */
  runNow(owner: string, name: string): Promise<void>;
  /** The names of an owner's jobs. */
  names(owner: string): string[];
  stop(): Promise<void>;
}

export function scheduleJobs(jobs: readonly OwnedJob[], logger: Logger, metrics: Metrics): JobScheduler {
  const failures = metrics.counter('scheduled_job_failures_total', 'Runs of a scheduled job that threw', ['owner', 'job']);
  const running = new Map<OwnedJob, Promise<void>>();
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  const stopping = new AbortController();

  function run(entry: OwnedJob): Promise<void> {
    const current = running.get(entry);
    if (current) return current;
    const done = (async () => {
      try {
        await entry.job.run(stopping.signal);
      } catch (err) {
        failures.inc({ owner: entry.owner, job: entry.job.name });
        logger.warn({ err, owner: entry.owner, job: entry.job.name }, 'scheduled job failed; it runs again on schedule');
      } finally {
        running.delete(entry);
      }
    })();
    running.set(entry, done);
    return done;
  }

  return {
    start() {
      for (const entry of jobs) {
        const tick = () => {
          if (!stopped && !running.has(entry)) void run(entry);
        };
        const every = () => {
          const timer = setInterval(tick, entry.job.everyMs);
          timer.unref();
          timers.push(timer);
        };
        if (entry.job.firstRunMs === undefined) {
          every();
          continue;
        }
        const first = setTimeout(() => {
          tick();
          if (!stopped) every();
        }, entry.job.firstRunMs);
        first.unref();
        timers.push(first);
      }
    },
    async runNow(owner, name) {
      const entry = jobs.find((j) => j.owner === owner && j.job.name === name);
      if (!entry) throw new Error(`no job ${owner}/${name}; there are: ${jobs.map((j) => `${j.owner}/${j.job.name}`).join(', ') || 'none'}`);
      // A run of its own, after any in progress: one the schedule started earlier may have read
      // the state from before what the caller just did.
      for (let current = running.get(entry); current; current = running.get(entry)) await current;
      await run(entry);
    },
    names: (owner) => jobs.filter((j) => j.owner === owner).map((j) => j.job.name),
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      stopping.abort();
      await Promise.allSettled([...running.values()]);
    },
  };
}
