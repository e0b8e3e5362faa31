// Inventory, declared: its store, contract handlers, routes, the reservation-expiry job, seed.
import { z } from 'zod';
import { defineModule } from '../../platform/modules/define-module.ts';
import { inventoryManifest } from './index.ts';
import { inventorySchema } from './db/schema.ts';
import { stockQueries } from './db/stock.ts';
import type { InventoryDeps } from './app/inventory-deps.ts';
import { reserveStock } from './app/reserve-stock.ts';
import { commitReservation } from './app/commit-reservation.ts';
import { HeldLines } from './app/held-lines.ts';
import { expireReservations, releaseReservation } from './app/release-reservation.ts';
import { getStock } from './app/restock.ts';
import { seedStock } from './app/seed-stock.ts';
import { inventoryRoutes } from './http/routes.ts';

export default defineModule({
  manifest: inventoryManifest,
  settings: {
    /** A reservation not committed by then goes back on the shelf. */
    RESERVATION_TTL_SECONDS: z.coerce.number().int().positive().default(15 * 60),
  },
  schema: inventorySchema,
  setup(ctx) {
    const deps: InventoryDeps = {
      store: ctx.store,
      unitOfWork: ctx.unitOfWork,
      stock: stockQueries(ctx.store),
      heldLines: new HeldLines(),
      reservationTtlMs: ctx.settings.RESERVATION_TTL_SECONDS * 1000,
      clock: ctx.clock,
    };
    return {
      handlers: {
        reserveStock: ({ orderId, lines }) => reserveStock(deps, orderId, lines),
        commitReservation: ({ orderId }) => commitReservation(deps, orderId),
        releaseReservation: ({ orderId }) => releaseReservation(deps, orderId),
        getStock: ({ sku }) => getStock(deps, sku),
      },
      routes: inventoryRoutes(deps, ctx.config.IDEMPOTENCY_TTL_SECONDS),
      jobs: [
        // Expired reservations go back on the shelf within a second or so of their deadline.
        { name: 'expire-reservations', everyMs: Math.min(1000, Math.max(50, ctx.settings.RESERVATION_TTL_SECONDS * 250)), run: () => expireReservations(deps) },
      ],
      async seed() {
        const added = await seedStock(deps);
        if (added) ctx.logger.info({ added }, 'demo stock loaded');
      },
    };
  },
});
