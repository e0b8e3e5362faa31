// Upkeep of the platform's own tables in every module store, done by the kernel once rather than
// by each module its own way: expired idempotency keys go, and inbox rows older than any
// redelivery could be (BullMQ keeps failed jobs a week) are forgotten.
import type { Config } from '../config/env.ts';
import type { ModuleStore } from '../data/module-store.ts';
import { sweepIdempotencyKeys } from '../http/idempotency.ts';
import { pruneInbox } from '../bus/inbox-consumer.ts';
import type { OwnedJob } from './jobs.ts';

export function housekeepingJobs(stores: ReadonlyMap<string, ModuleStore>, config: Config): OwnedJob[] {
  return [...stores].flatMap(([module, store]) => [
    { owner: 'platform', job: { name: `idempotency-expiry:${module}`, everyMs: 60_000, run: () => sweepIdempotencyKeys(store) } },
    {
      owner: 'platform',
      job: {
        name: `inbox-retention:${module}`,
        everyMs: 3_600_000,
        run: () => pruneInbox(store, new Date(Date.now() - config.BUS_INBOX_RETENTION_DAYS * 24 * 3600 * 1000)),
      },
    },
  ]);
}
