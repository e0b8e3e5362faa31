// Two small modules for the bus benchmark: `benchsource` records an item and publishes ItemRecorded
// in one unit of work; `benchsink` handles it (inbox de-dup by the platform, one row of effect).
// The bench drives the source's unit of work directly, so HTTP is not part of the figure, and
// learns through `onHandled` when each event's handler ran. Their inserts are prepared once
// (prepared-write.ts), as the commerce modules' per-order and per-event writes are.
import { z } from 'zod';
import { defineEvent } from '../../src/platform/bus/define-event.ts';
import { defineManifest } from '../../src/platform/modules/manifest.ts';
import { defineModule, on, type Module } from '../../src/platform/modules/define-module.ts';
import { defineSchema } from '../../src/platform/data/schema-kit.ts';
import type { RunUnitOfWork } from '../../src/platform/bus/unit-of-work.ts';
import type { ModuleStore } from '../../src/platform/data/module-store.ts';
import { bound, preparedWrite, type PreparedWrite } from '../../src/platform/data/prepared-write.ts';

export const ItemRecorded = defineEvent('ItemRecorded', 1, z.object({ itemId: z.string(), n: z.number().int() }));

export const sourceSchema = defineSchema(
  'benchsource',
  (k) => ({ items: k.table('items', { id: k.text('id').primaryKey(), n: k.int('n').notNull(), createdAt: k.timestamp('created_at').notNull() }) }),
  { migrationsDir: 'scripts/bench/bus-migrations/benchsource' },
);

export const sinkSchema = defineSchema(
  'benchsink',
  (k) => ({ effects: k.table('effects', { itemId: k.text('item_id').primaryKey(), eventId: k.text('event_id').notNull() }) }),
  { migrationsDir: 'scripts/bench/bus-migrations/benchsink' },
);

const sourceManifest = defineManifest({ name: 'benchsource', purpose: 'bench: records items', publishes: [ItemRecorded], subscribes: [], dependsOn: [], publicPaths: [] });
const sinkManifest = defineManifest({ name: 'benchsink', purpose: 'bench: handles items', publishes: [], subscribes: [ItemRecorded], dependsOn: [], publicPaths: [] });
export const benchManifests = [sourceManifest, sinkManifest];

export interface BenchHooks {
  /** Set when the source module is set up: the bench publishes through it. */
  unitOfWork?: RunUnitOfWork;
  /** The source's item insert, prepared on its store. */
  insertItem?: PreparedWrite<never>;
  onHandled(itemId: string): void;
}

export function benchModules(hooks: BenchHooks): Module[] {
  const source = defineModule({
    manifest: sourceManifest,
    schema: sourceSchema,
    setup(ctx) {
      hooks.unitOfWork = ctx.unitOfWork;
      const { items } = ctx.store.tables;
      hooks.insertItem = preparedWrite(ctx.store as unknown as ModuleStore, 'insert_item', (db) =>
        db.insert(items).values({ id: bound(items.id, 'id'), n: bound(items.n, 'n'), createdAt: bound(items.createdAt, 'createdAt') } as never),
      );
      return {};
    },
  });
  const sink = defineModule({
    manifest: sinkManifest,
    schema: sinkSchema,
    setup(ctx) {
      const { effects } = ctx.store.tables;
      const insertEffect = preparedWrite(ctx.store as unknown as ModuleStore, 'insert_effect', (db) =>
        db.insert(effects).values({ itemId: bound(effects.itemId, 'itemId'), eventId: bound(effects.eventId, 'eventId') } as never),
      );
      return {
        subscriptions: [
          on(ItemRecorded, async ({ itemId }, uow, envelope) => {
            await insertEffect.run(uow.db, { itemId, eventId: envelope.id });
            hooks.onHandled(itemId);
          }),
        ],
      };
    },
  });
  return [source, sink];
}

/** One item and its event, in one unit of work of the source module. */
export async function recordItem(hooks: BenchHooks, itemId: string, n: number): Promise<void> {
  await hooks.unitOfWork!(async (uow) => {
    await hooks.insertItem!.run(uow.db, { id: itemId, n, createdAt: new Date() });
    await uow.publish(ItemRecorded, { itemId, n });
  });
}
