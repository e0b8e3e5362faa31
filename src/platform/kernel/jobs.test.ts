// The kernel's job schedule: a job with a first-run delay runs then and on its interval after;
// one without waits for its interval; a job never overlaps itself; stop waits for a run in progress,
// telling it that it is stopping.
import { afterEach, describe, expect, it } from 'vitest';
import { scheduleJobs, type JobScheduler } from './jobs.ts';
import { createLogger } from '../logging/logger.ts';
import { createMetrics } from '../metrics/registry.ts';
import { eventually } from '../../../test/support/eventually.ts';

const logger = createLogger('silent', { deployable: 'jobs-test' });

describe('scheduleJobs', () => {
  let scheduler: JobScheduler | undefined;
  afterEach(async () => {
    await scheduler?.stop();
    scheduler = undefined;
  });

  it('runs a job first after its firstRunMs, then every everyMs; a job without one waits for its interval', async () => {
    const runs = { once: 0, repeating: 0, hourly: 0 };
    scheduler = scheduleJobs(
      [
        // Its interval is an hour: a run within the test can only be the first one.
        { owner: 'platform', job: { name: 'once', everyMs: 3_600_000, firstRunMs: 10, run: async () => void runs.once++ } },
        { owner: 'platform', job: { name: 'repeating', everyMs: 30, firstRunMs: 0, run: async () => void runs.repeating++ } },
        { owner: 'platform', job: { name: 'hourly', everyMs: 3_600_000, run: async () => void runs.hourly++ } },
      ],
      logger,
      createMetrics({ deployable: 'jobs-test' }),
    );
    scheduler.start();
    await eventually(async () => runs.once === 1 && runs.repeating >= 3, 'the first runs, then the interval', 20_000, 10);
    expect(runs.once).toBe(1);
    expect(runs.hourly).toBe(0);
  });

  it('never runs a first run still waiting when it is stopped', async () => {
    let runs = 0;
    scheduler = scheduleJobs([{ owner: 'platform', job: { name: 'later', everyMs: 20, firstRunMs: 50, run: async () => void runs++ } }], logger, createMetrics({ deployable: 'jobs-test' }));
    scheduler.start();
    await scheduler.stop();
    scheduler = undefined;
    await new Promise((r) => setTimeout(r, 200));
    expect(runs).toBe(0);
  });

  it('runNow waits for a run in progress, then runs once more', async () => {
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    scheduler = scheduleJobs(
      [{ owner: 'platform', job: { name: 'held', everyMs: 3_600_000, firstRunMs: 0, run: async () => void (runs++ === 0 && (await gate)) } }],
      logger,
      createMetrics({ deployable: 'jobs-test' }),
    );
    scheduler.start();
    await eventually(async () => runs === 1, 'the scheduled run started', 20_000, 5);
    const manual = scheduler.runNow('platform', 'held');
    release();
    await manual;
    expect(runs).toBe(2);
  });

  it('never overlaps a run with itself, and stop waits for the run in progress', async () => {
    let active = 0;
    let most = 0;
    let finished = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    scheduler = scheduleJobs(
      [
        {
          owner: 'platform',
          job: {
            name: 'slow',
            everyMs: 5,
            firstRunMs: 0,
            run: async () => {
              active++;
              most = Math.max(most, active);
              await gate;
              active--;
              finished++;
            },
          },
        },
      ],
      logger,
      createMetrics({ deployable: 'jobs-test' }),
    );
    scheduler.start();
    await eventually(async () => active === 1, 'the first run started', 20_000, 5);
    // Many intervals pass while the run is held.
    await new Promise((r) => setTimeout(r, 100));
    expect(most).toBe(1);
    const stopping = scheduler.stop();
    release();
    await stopping;
    expect(finished).toBe(1);
    scheduler = undefined;
  });

  it('tells a run in progress that it is stopping, and waits for it to end', async () => {
    const seen: boolean[] = [];
    let ended = false;
    scheduler = scheduleJobs(
      [
        {
          owner: 'platform',
          job: {
            name: 'steps',
            everyMs: 3_600_000,
            firstRunMs: 0,
            // A run in steps, as the housekeeping's batches are: it ends at the first step after the signal.
            run: async (stopping) => {
              while (!stopping.aborted) {
                seen.push(stopping.aborted);
                await new Promise((r) => setTimeout(r, 5));
              }
              ended = true;
            },
          },
        },
      ],
      logger,
      createMetrics({ deployable: 'jobs-test' }),
    );
    scheduler.start();
    await eventually(async () => seen.length > 0, 'the run started', 20_000, 5);
    await scheduler.stop();
    scheduler = undefined;
    expect(ended).toBe(true);
    expect(seen.every((aborted) => !aborted)).toBe(true);
  });
});
