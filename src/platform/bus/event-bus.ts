// The bus of one deployable: a relay per hosted module store, a consumer per hosted subscriber,
// on the transport the configuration names.
import type { Config } from '../config/env.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { ModuleStore } from '../data/module-store.ts';
import type { ModuleManifest } from '../modules/manifest.ts';
import type { Subscription } from '../modules/define-module.ts';
import type { RunUnitOfWork } from './unit-of-work.ts';
import { eventRouting } from './event-routing.ts';
import { inProcessTransport } from './in-process-transport.ts';
import { outboxRelay, type OutboxRelay } from './outbox-relay.ts';
import { deadLetterCount, inboxConsumer, markReplayed, outboxBacklog, pendingDeadLetters } from './inbox-consumer.ts';
import { busMetrics } from './bus-metrics.ts';
import type { Transport } from './transport.ts';

export interface HostedModule {
  name: string;
  store: ModuleStore;
  unitOfWork: RunUnitOfWork;
  subscriptions: readonly Subscription[];
}

export interface EventBus {
  readonly transport: Transport;
  /** Called after a unit of work that published something commits. */
  kick(module: string): void;
  start(hosted: readonly HostedModule[]): void;
  stop(): Promise<void>;
  ready(): Promise<void>;
  deadLetters(module?: string): Promise<{ module: string; seq: number; eventId: string; handler: string; reason: string; attempts: number; createdAt: Date; envelope: unknown }[]>;
  /** Replays one dead letter (by seq) or all of a module's; answers how many were replayed. */
  replay(module: string, seq?: number): Promise<number>;
}

/** BullMQ (and ioredis under it) load only when BUS=bullmq: the in-process default starts without them. */
export async function createEventBus(o: { config: Config; manifests: readonly ModuleManifest[]; hostedNames: readonly string[]; metrics: Metrics; logger: Logger }): Promise<EventBus> {
  const { config } = o;
  const metrics = busMetrics(o.metrics);
  const routing = eventRouting(o.manifests);
  const logger = o.logger.child({ component: 'bus' });
  if (config.BUS === 'inprocess') {
    const local = new Set(o.hostedNames);
    for (const m of o.manifests) {
      if (m.subscribes.length && !local.has(m.name)) {
        throw new Error(`Module ${m.name} subscribes to events but does not run in this process; in-process delivery cannot reach it. Set BUS=bullmq.`);
      }
    }
  }
  const transport =
    config.BUS === 'bullmq'
      ? (await import('./bullmq-transport.ts')).bullmqTransport({
          redisUrl: config.REDIS_URL,
          prefix: config.BUS_PREFIX,
          maxAttempts: config.BUS_MAX_ATTEMPTS,
          retryDelayMs: config.BUS_RETRY_DELAY_MS,
          concurrency: config.BUS_CONCURRENCY,
          lockMs: config.BUS_LOCK_MS,
          eventsPerJob: config.BUS_EVENTS_PER_JOB,
          logger,
        })
      : inProcessTransport({ maxAttempts: config.BUS_MAX_ATTEMPTS, retryDelayMs: config.BUS_RETRY_DELAY_MS });

  const relays = new Map<string, OutboxRelay>();
  const stores = new Map<string, ModuleStore>();

  o.metrics.gauge('bus_outbox_backlog', 'Committed events not yet handed to the transport', ['module'], async function () {
    this.reset();
    await Promise.all([...stores].map(async ([name, store]) => this.set({ module: name }, await outboxBacklog(store).catch(() => -1))));
  });
  o.metrics.gauge('bus_dead_letters', 'Dead letters not yet replayed', ['module'], async function () {
    this.reset();
    await Promise.all([...stores].map(async ([name, store]) => this.set({ module: name }, await deadLetterCount(store).catch(() => -1))));
  });

  return {
    transport,
    kick(module) {
      relays.get(module)?.kick();
    },
    start(hosted) {
      for (const h of hosted) {
        stores.set(h.name, h.store);
        if (h.subscriptions.length) {
          transport.consume(h.name, inboxConsumer({ module: h.name, store: h.store, unitOfWork: h.unitOfWork, subscriptions: h.subscriptions, logger, metrics }));
        }
      }
      for (const h of hosted) {
        const relay = outboxRelay({ store: h.store, routing, transport, metrics, logger, pollMs: config.BUS_POLL_MS, gatherMs: config.BUS_GATHER_MS });
        relays.set(h.name, relay);
        relay.start();
      }
    },
    async stop() {
      await Promise.all([...relays.values()].map((r) => r.stop()));
      await transport.close();
    },
    ready: () => transport.ready(),
    async deadLetters(module) {
      const names = module ? [module] : [...stores.keys()];
      const out = [];
      for (const name of names) {
        const store = stores.get(name);
        if (!store) continue;
        for (const d of await pendingDeadLetters(store)) out.push({ module: name, ...d });
      }
      return out;
    },
    async replay(module, seq) {
      const store = stores.get(module);
      if (!store) return 0;
      let n = 0;
      for (const d of await pendingDeadLetters(store)) {
        if (seq !== undefined && d.seq !== seq) continue;
        // Redeliver first, then mark: a crash in between redelivers twice, which the inbox absorbs;
        // the other order could lose the event. A replay that fails again writes a fresh dead letter.
        await transport.redeliver(module, d.envelope);
        await markReplayed(store, d.seq, d.createdAt);
        n++;
      }
      return n;
    },
  };
}
