// Orders: the bounded context of buying — an order's lines and lifecycle, and the saga that
// carries it through stock and payment. A customer here is a snapshot id, not a reference
// into another module's data.
import { defineManifest } from '../../platform/modules/manifest.ts';
import { OrderCancelled, OrderConfirmed, OrderPlaced } from './events.ts';

export { CancelReason, OrderCancelled, OrderConfirmed, OrderPlaced } from './events.ts';

export const ordersManifest = defineManifest({
  name: 'orders',
  purpose: 'Buying: orders, their lifecycle and the saga that confirms or compensates them',
  publishes: [OrderPlaced, OrderConfirmed, OrderCancelled],
  // Its own events feed the order-history read model (CQRS).
  subscribes: [OrderPlaced, OrderConfirmed, OrderCancelled],
  dependsOn: ['catalog', 'inventory', 'payments'],
  publicPaths: ['/api/v1/orders', '/api/v2/orders', '/api/v1/customers/me/orders'],
});
