// Orders' wiring: the contracts it calls, the saga runner, its routes and the history projection.
import { defineModule, on } from '../../platform/modules/define-module.ts';
import { sweepIdempotencyKeys } from '../../platform/http/idempotency.ts';
import { catalogContract } from '../catalog/index.ts';
import { inventoryContract } from '../inventory/index.ts';
import { paymentsContract } from '../payments/index.ts';
import { ordersManifest } from './index.ts';
import { OrderCancelled, OrderConfirmed, OrderPlaced } from './events.ts';
import { ordersSchema } from './db/schema.ts';
import type { OrdersDeps } from './app/orders-deps.ts';
import { sagaRunner } from './app/saga-runner.ts';
import { projectOrderEvent } from './app/history-projector.ts';
import { rebuildHistory } from './app/order-history.ts';
import { ordersRoutes } from './http/routes.ts';

export const ordersModule = defineModule({
  manifest: ordersManifest,
  schema: ordersSchema,
  commands: {
    'rebuild-history': async ({ store }) => `order history rebuilt from ${await rebuildHistory(store)} event(s)`,
  },
  setup(ctx) {
    const c = ctx.config;
    let runner: ReturnType<typeof sagaRunner> | undefined;
    const deps: OrdersDeps = {
      store: ctx.store,
      unitOfWork: ctx.unitOfWork,
      catalog: ctx.contract(catalogContract),
      inventory: ctx.contract(inventoryContract),
      payments: ctx.contract(paymentsContract),
      logger: ctx.logger,
      clock: () => new Date(),
      saga: { retryDelayMs: c.SAGA_RETRY_DELAY_MS, deadlineMs: c.SAGA_DEADLINE_SECONDS * 1000, leaseMs: c.SAGA_LEASE_MS, pollMs: c.SAGA_POLL_MS },
      metrics: {
        finished: ctx.metrics.counter('order_sagas_finished_total', 'Order sagas ended, by outcome and cancellation reason', ['outcome', 'reason']),
        retries: ctx.metrics.counter('order_saga_step_retries_total', 'Saga steps put off for a retry (a dependency was unavailable)', ['step']),
        parked: ctx.metrics.counter('order_sagas_parked_total', 'Sagas whose compensation was refused and that wait for an operator', ['step']),
      },
      kickSaga: () => runner?.kick(),
    };
    runner = sagaRunner(deps);
    const project = on(OrderPlaced, (_p, uow, envelope) => projectOrderEvent(uow.db, ctx.store.tables, envelope));
    let sweep: NodeJS.Timeout | undefined;
    return {
      routes: ordersRoutes(deps, c.IDEMPOTENCY_TTL_SECONDS),
      subscriptions: [
        project,
        on(OrderConfirmed, (_p, uow, envelope) => projectOrderEvent(uow.db, ctx.store.tables, envelope)),
        on(OrderCancelled, (_p, uow, envelope) => projectOrderEvent(uow.db, ctx.store.tables, envelope)),
      ],
      async start() {
        runner!.start();
        sweep = setInterval(() => sweepIdempotencyKeys(ctx.store).catch(() => {}), 60_000);
        sweep.unref();
      },
      async stop() {
        if (sweep) clearInterval(sweep);
        await runner!.stop();
      },
    };
  },
});
