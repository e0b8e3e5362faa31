// Notifications, declared: one subscription per event it reacts to, and the routes to read them.
import { defineModule, on } from '../../platform/modules/define-module.ts';
import { OrderCancelled, OrderConfirmed } from '../orders/index.ts';
import { PaymentRefunded } from '../payments/index.ts';
import { LowStock } from '../inventory/index.ts';
import { notificationsManifest } from './index.ts';
import { notificationsSchema } from './db/schema.ts';
import { keep } from './app/notifications.ts';
import { lowStock, orderCancelled, orderConfirmed, paymentRefunded } from './app/compose-messages.ts';
import { notificationsRoutes } from './http/routes.ts';

export default defineModule({
  manifest: notificationsManifest,
  schema: notificationsSchema,
  setup(ctx) {
    const store = ctx.store;
    return {
      routes: notificationsRoutes(store),
      subscriptions: [
        on(OrderConfirmed, (p, uow, e) => keep(store, uow, e, orderConfirmed(p))),
        on(OrderCancelled, (p, uow, e) => keep(store, uow, e, orderCancelled(p))),
        on(PaymentRefunded, (p, uow, e) => keep(store, uow, e, paymentRefunded(p))),
        on(LowStock, (p, uow, e) => keep(store, uow, e, lowStock(p))),
      ],
    };
  },
});
