// The one place that knows every module's implementation. The monolith runs what the topology
// says is local; an extracted service's bundle imports only its own module.ts instead.
import type { ModuleDefinition } from './platform/modules/define-module.ts';

export const moduleLoaders: Record<string, () => Promise<ModuleDefinition>> = {
  catalog: async () => (await import('./modules/catalog/module.ts')).catalogModule as unknown as ModuleDefinition,
  inventory: async () => (await import('./modules/inventory/module.ts')).inventoryModule as unknown as ModuleDefinition,
  payments: async () => (await import('./modules/payments/module.ts')).paymentsModule as unknown as ModuleDefinition,
  orders: async () => (await import('./modules/orders/module.ts')).ordersModule as unknown as ModuleDefinition,
  notifications: async () => (await import('./modules/notifications/module.ts')).notificationsModule as unknown as ModuleDefinition,
};

export async function loadModules(names: readonly string[]): Promise<ModuleDefinition[]> {
  return Promise.all(
    names.map((name) => {
      const load = moduleLoaders[name];
      if (!load) throw new Error(`Unknown module ${name}; known: ${Object.keys(moduleLoaders).join(', ')}`);
      return load();
    }),
  );
}
