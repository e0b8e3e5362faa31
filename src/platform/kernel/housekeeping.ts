// Upkeep of the platform's own tables in every module store, done by the kernel once rather than
// by each module its own way: expired idempotency keys go, inbox rows older than any redelivery
// could be (BullMQ keeps failed jobs a week) are forgotten, and so are outbox rows dispatched longer
// ago than BUS_OUTBOX_RETENTION_DAYS.
import type { Config } from '../config/env.ts';
import type { ModuleStore } from '../data/module-store.ts';
import { sweepIdempotencyKeys } from '../http/idempotency.ts';
import { pruneInbox } from '../bus/inbox-consumer.ts';
import { pruneOutbox } from '../bus/outbox-relay.ts';
import type { OwnedJob } from './jobs.ts';

export function housekeepingJobs(stores: ReadonlyMap<string, ModuleStore>, config: Config): OwnedJob[] {
  return [...stores].flatMap(([module, store]) => [
    { owner: 'platform', job: { name: `idempotency-expiry:${module}`, everyMs: 60_000, run: () => sweepIdempotencyKeys(store) } },
    {
      owner: 'platform',
      job: {
        name: `inbox-retention:${module}`,
        everyMs: 3_600_000,
        run: () => pruneInbox(store, daysAgo(config.BUS_INBOX_RETENTION_DAYS)),
      },
    },
    {
      owner: 'platform',
      job: {
        name: `outbox-retention:${module}`,
        everyMs: 3_600_000,
        run: async () => void (await pruneOutbox(store, daysAgo(config.BUS_OUTBOX_RETENTION_DAYS))),
      },
    },
  ]);
}

const daysAgo = (days: number) => new Date(Date.now() - days * 24 * 3600 * 1000);
