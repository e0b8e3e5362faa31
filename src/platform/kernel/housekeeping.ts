// Upkeep of the platform's own tables in every module store, done by the kernel once rather than
// by each module its own way: expired idempotency keys go, inbox rows older than any redelivery
// could be (BullMQ keeps failed jobs a week) are forgotten, and sent outbox rows past their
// retention are pruned, but for the events their module keeps (outbox-retention.ts).
import type { Config } from '../config/env.ts';
import type { ModuleStore } from '../data/module-store.ts';
import { sweepIdempotencyKeys } from '../http/idempotency.ts';
import { pruneInbox } from '../bus/inbox-consumer.ts';
import { outboxRetention } from '../bus/outbox-retention.ts';
import type { OwnedJob } from './jobs.ts';

const DAY_MS = 24 * 3600 * 1000;
const HOUR_MS = 3_600_000;
// The retentions run hourly, the first time a minute after start: a deployable restarted more
// often than hourly still prunes.
const FIRST_RETENTION_RUN_MS = 60_000;

/** `keptEvents`: per module, the keys of the events its outbox keeps past the retention. */
export function housekeepingJobs(stores: ReadonlyMap<string, ModuleStore>, config: Config, keptEvents: ReadonlyMap<string, readonly string[]>): OwnedJob[] {
  return [...stores].flatMap(([module, store]) => {
    const outbox = outboxRetention(store, keptEvents.get(module) ?? []);
    return [
      { owner: 'platform', job: { name: `idempotency-expiry:${module}`, everyMs: 60_000, run: () => sweepIdempotencyKeys(store) } },
      {
        owner: 'platform',
        job: {
          name: `inbox-retention:${module}`,
          everyMs: HOUR_MS,
          firstRunMs: FIRST_RETENTION_RUN_MS,
          run: () => pruneInbox(store, new Date(Date.now() - config.BUS_INBOX_RETENTION_DAYS * DAY_MS)),
        },
      },
      {
        owner: 'platform',
        job: {
          name: `outbox-retention:${module}`,
          everyMs: HOUR_MS,
          firstRunMs: FIRST_RETENTION_RUN_MS,
          run: () => outbox.prune(new Date(Date.now() - config.BUS_OUTBOX_RETENTION_DAYS * DAY_MS)),
        },
      },
    ];
  });
}
