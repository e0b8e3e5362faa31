// Inventory: the bounded context of what is on the shelf — stock per sku and the reservations
// that hold it for orders. It owns stock counts; it never prices or sells.
import { defineManifest } from '../../platform/modules/manifest.ts';
import { inventoryContract } from './contract.ts';
import { LowStock, StockCommitted, StockReleased, StockReserved, StockRestocked } from './events.ts';

export { inventoryContract, OutOfStock, UnknownSku, ReservationClosed, ReservationNotFound, StockView } from './contract.ts';
export { LowStock, StockCommitted, StockReleased, StockReserved, StockRestocked } from './events.ts';

export const inventoryManifest = defineManifest({
  name: 'inventory',
  purpose: 'What is on the shelf: stock per sku and reservations held for orders',
  contract: inventoryContract,
  publishes: [StockReserved, StockCommitted, StockReleased, StockRestocked, LowStock],
  subscribes: [],
  // The sku format is the catalog's (its contract's Sku schema); inventory calls no operation of it.
  dependsOn: ['catalog'],
  publicPaths: ['/api/v1/inventory'],
});
