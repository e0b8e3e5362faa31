// Orders' wiring: the contracts it calls, the saga runner, its routes and the history projection.
import { z } from 'zod';
import { defineModule, on } from '../../platform/modules/define-module.ts';
import { catalogContract } from '../catalog/index.ts';
import { inventoryContract } from '../inventory/index.ts';
import { paymentsContract } from '../payments/index.ts';
import { ordersManifest } from './index.ts';
import { OrderCancelled, OrderConfirmed, OrderPlaced } from './events.ts';
import { ordersSchema } from './db/schema.ts';
import type { OrdersDeps } from './app/orders-deps.ts';
import { sagaRunner } from './app/saga-runner.ts';
import { orderWatchers } from './app/order-watchers.ts';
import { historyEvents, projectOrderEvent } from './app/history-projector.ts';
import { rebuildHistory } from './app/order-history.ts';
import { ordersRoutes } from './http/routes.ts';
import { orderStatements } from './db/order-writes.ts';

export default defineModule({
  manifest: ordersManifest,
  settings: {
    /** How often the saga runner looks for due sagas, besides being woken by new orders. */
    SAGA_POLL_MS: z.coerce.number().int().min(10).default(250),
    /**
     * Drive an order's saga the moment its placement commits (true), or leave every saga to the
     * poll (false: a diagnostic switch; orders then wait up to SAGA_POLL_MS to start).
     */
    SAGA_DRIVE_ON_COMMIT: z.enum(['true', 'false']).default('true'),
    /** First delay before a step is retried (doubling, with jitter). */
    SAGA_RETRY_DELAY_MS: z.coerce.number().int().min(1).default(200),
    /** How long a runner holds a saga before another may take it over (a crashed instance's). */
    SAGA_LEASE_MS: z.coerce.number().int().min(100).default(10_000),
    /** A saga still waiting on a dependency after this long gives up and compensates. */
    SAGA_DEADLINE_SECONDS: z.coerce.number().int().positive().default(600),
    /**
     * How long after placement an order may wait for its payment to be taken (a provider route
     * that is down or too slow) before it is cancelled with payment_unavailable. With one more
     * charge attempt and the compensations, an order ends within 30 s by default.
     */
    SAGA_PAYMENT_DEADLINE_SECONDS: z.coerce.number().int().positive().default(20),
  },
  schema: ordersSchema,
  // The history projection is rebuilt by replaying these from the outbox (rebuild-history).
  keepsEvents: historyEvents,
  commands: {
    'rebuild-history': async ({ store }) => `order history rebuilt from ${await rebuildHistory(store)} event(s)`,
  },
  setup(ctx) {
    const s = ctx.settings;
    let runner: ReturnType<typeof sagaRunner> | undefined;
    const deps: OrdersDeps = {
      store: ctx.store,
      statements: orderStatements(ctx.store),
      unitOfWork: ctx.unitOfWork,
      catalog: ctx.contract(catalogContract),
      inventory: ctx.contract(inventoryContract),
      payments: ctx.contract(paymentsContract),
      logger: ctx.logger,
      clock: ctx.clock,
      saga: { retryDelayMs: s.SAGA_RETRY_DELAY_MS, deadlineMs: s.SAGA_DEADLINE_SECONDS * 1000, paymentDeadlineMs: s.SAGA_PAYMENT_DEADLINE_SECONDS * 1000, leaseMs: s.SAGA_LEASE_MS },
      metrics: {
        finished: ctx.metrics.counter('order_sagas_finished_total', 'Order sagas ended, by outcome and cancellation reason', ['outcome', 'reason']),
        retries: ctx.metrics.counter('order_saga_step_retries_total', 'Saga steps put off for a retry (a dependency was unavailable)', ['step']),
        parked: ctx.metrics.counter('order_sagas_parked_total', 'Sagas whose compensation was refused and that wait for an operator', ['step']),
        leasesLost: ctx.metrics.counter('order_saga_leases_lost_total', 'Saga drives stopped because another runner holds the saga now (this one lost its lease)', []),
      },
      sagas: {
        leaseForNew: (orderId) => runner?.leaseForNew(orderId),
        driveNow: (orderId, order, saga) => runner?.driveNow(orderId, order, saga),
        abandon: (orderId) => runner?.abandon(orderId),
      },
      // Woken by this instance's settles and events; the re-read is for another instance's.
      watchers: orderWatchers(Math.max(s.SAGA_POLL_MS, 1000)),
    };
    runner = sagaRunner(deps, { driveOnCommit: s.SAGA_DRIVE_ON_COMMIT === 'true' });
    const project = on(OrderPlaced, (_p, uow, envelope) => projectOrderEvent(uow.db, deps.statements, envelope));
    return {
      routes: ordersRoutes(deps, ctx.config.IDEMPOTENCY_TTL_SECONDS),
      subscriptions: [
        project,
        // Settled by whichever instance drove the saga: wake this one's waiting requests too.
        on(OrderConfirmed, async (p, uow, envelope) => {
          await projectOrderEvent(uow.db, deps.statements, envelope);
          deps.watchers.changed(p.orderId);
        }),
        on(OrderCancelled, async (p, uow, envelope) => {
          await projectOrderEvent(uow.db, deps.statements, envelope);
          deps.watchers.changed(p.orderId);
        }),
      ],
      jobs: [{ name: 'saga-poll', everyMs: s.SAGA_POLL_MS, run: () => runner!.poll() }],
      async start() {
        runner!.kick();
      },
      // Held order reads answer with what they have as soon as shutdown begins.
      draining: () => deps.watchers.close(),
      async stop() {
        await runner!.stop();
      },
    };
  },
});
