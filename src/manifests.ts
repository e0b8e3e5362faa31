// Every module of the system, by its public surface. Each deployable knows all of them (for
// contract bindings and event routing); it loads implementations only for the modules it runs.
import { catalogManifest } from './modules/catalog/index.ts';
import { inventoryManifest } from './modules/inventory/index.ts';
import { paymentsManifest } from './modules/payments/index.ts';
import { ordersManifest } from './modules/orders/index.ts';
import { notificationsManifest } from './modules/notifications/index.ts';

export const manifests = [catalogManifest, inventoryManifest, paymentsManifest, ordersManifest, notificationsManifest];
