// Upkeep of the platform's own tables in every module store, done by the kernel once rather than
// by each module its own way: expired idempotency keys go, inbox rows older than any redelivery
// could be (BullMQ keeps failed jobs a week) are forgotten, and sent outbox rows past their
// retention are pruned, but for the events their module keeps (outbox-retention.ts). Each deletes
// a bounded batch a statement (data/delete-in-batches.ts): a backlog never makes one long write.
import type { Config } from '../config/env.ts';
import type { Logger } from '../logging/logger.ts';
import type { ModuleStore } from '../data/module-store.ts';
import type { Module } from '../modules/define-module.ts';
import { sweepIdempotencyKeys } from '../http/idempotency.ts';
import { pruneInbox } from '../bus/inbox-consumer.ts';
import { outboxRetention } from '../bus/outbox-retention.ts';
import type { OwnedJob } from './jobs.ts';

const HOUR_MS = 3_600_000;
// The retentions run hourly, the first time a minute after start: a deployable restarted more
// often than hourly still prunes.
const FIRST_RETENTION_RUN_MS = 60_000;

export function housekeepingJobs(stores: ReadonlyMap<string, ModuleStore>, modules: readonly Module[], config: Config, logger: Logger): OwnedJob[] {
  return [...stores].flatMap(([module, store]) => {
    const jobs: OwnedJob[] = [
      {
        owner: 'platform',
        job: {
          name: `idempotency-expiry:${module}`,
          everyMs: 60_000,
          run: async (stopping) => {
            const swept = await sweepIdempotencyKeys(store, { signal: stopping });
            if (swept > 0) logger.debug({ module, swept }, 'deleted expired idempotency keys');
          },
        },
      },
      {
        owner: 'platform',
        job: {
          name: `inbox-retention:${module}`,
          everyMs: HOUR_MS,
          firstRunMs: FIRST_RETENTION_RUN_MS,
          run: async (stopping) => {
            const pruned = await pruneInbox(store, daysAgo(config.BUS_INBOX_RETENTION_DAYS), { signal: stopping });
            if (pruned > 0) logger.info({ module, pruned, retentionDays: config.BUS_INBOX_RETENTION_DAYS }, 'pruned inbox rows past their retention');
          },
        },
      },
    ];
    const def = modules.find((m) => m.manifest.name === module);
    const kept = def?.keptEvents ?? [];
    // A module that keeps every event it publishes (orders) has nothing to prune: no pass walks
    // its outbox, which is its event log.
    if (def && def.manifest.publishes.every((e) => kept.includes(e.key))) return jobs;
    const outbox = outboxRetention(store, kept);
    jobs.push({
      owner: 'platform',
      job: {
        name: `outbox-retention:${module}`,
        everyMs: HOUR_MS,
        firstRunMs: FIRST_RETENTION_RUN_MS,
        run: async (stopping) => {
          const pruned = await outbox.prune(daysAgo(config.BUS_OUTBOX_RETENTION_DAYS), stopping);
          if (pruned > 0) logger.info({ module, pruned, retentionDays: config.BUS_OUTBOX_RETENTION_DAYS }, 'pruned sent outbox rows past their retention');
        },
      },
    });
    return jobs;
  });
}

const daysAgo = (days: number) => new Date(Date.now() - days * 24 * 3600 * 1000);
