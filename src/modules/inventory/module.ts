// Inventory's wiring: store, contract handlers, routes, the reservation-expiry sweep, seed.
import { defineModule } from '../../platform/modules/define-module.ts';
import { sweepIdempotencyKeys } from '../../platform/http/idempotency.ts';
import { inventoryManifest } from './index.ts';
import { inventorySchema } from './db/schema.ts';
import { stockQueries } from './db/stock.ts';
import type { InventoryDeps } from './app/inventory-deps.ts';
import { reserveStock } from './app/reserve-stock.ts';
import { commitReservation } from './app/commit-reservation.ts';
import { expireReservations, releaseReservation } from './app/release-reservation.ts';
import { getStock } from './app/restock.ts';
import { seedStock } from './app/seed-stock.ts';
import { inventoryRoutes } from './http/routes.ts';

export const inventoryModule = defineModule({
  manifest: inventoryManifest,
  schema: inventorySchema,
  setup(ctx) {
    const deps: InventoryDeps = {
      store: ctx.store,
      unitOfWork: ctx.unitOfWork,
      stock: stockQueries(ctx.store.tables, ctx.store.dialect),
      reservationTtlMs: ctx.config.RESERVATION_TTL_SECONDS * 1000,
      clock: () => new Date(),
    };
    let sweep: NodeJS.Timeout | undefined;
    return {
      handlers: {
        reserveStock: ({ orderId, lines }) => reserveStock(deps, orderId, lines),
        commitReservation: ({ orderId }) => commitReservation(deps, orderId),
        releaseReservation: ({ orderId }) => releaseReservation(deps, orderId),
        getStock: ({ sku }) => getStock(deps, sku),
      },
      routes: inventoryRoutes(deps, ctx.config.IDEMPOTENCY_TTL_SECONDS),
      async seed() {
        const added = await seedStock(deps);
        if (added) ctx.logger.info({ added }, 'demo stock loaded');
      },
      async start() {
        // Expired reservations go back on the shelf within a second or so of their deadline.
        const every = Math.min(1000, Math.max(50, ctx.config.RESERVATION_TTL_SECONDS * 250));
        sweep = setInterval(() => {
          expireReservations(deps).catch((err) => ctx.logger.warn({ err }, 'reservation sweep failed'));
          if (Math.random() < 0.01) sweepIdempotencyKeys(ctx.store).catch(() => {});
        }, every);
        sweep.unref();
      },
      async stop() {
        if (sweep) clearInterval(sweep);
      },
    };
  },
});
