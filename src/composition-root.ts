// The one place that knows every module's implementation: the system the monolith and
// `npm run service` start from. A deployable loads only the modules it runs; an extracted
// service's bundle has a system of its own with just its module in it.
import { manifests } from './manifests.ts';
import { systemOf } from './platform/modules/system.ts';

export const system = systemOf(manifests, {
  catalog: async () => (await import('./modules/catalog/module.ts')).default,
  inventory: async () => (await import('./modules/inventory/module.ts')).default,
  payments: async () => (await import('./modules/payments/module.ts')).default,
  orders: async () => (await import('./modules/orders/module.ts')).default,
  notifications: async () => (await import('./modules/notifications/module.ts')).default,
});
