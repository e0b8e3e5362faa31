import { z } from 'zod';
import { defineEvent } from '../../platform/bus/define-event.ts';
import { Sku } from '../catalog/index.ts';
import { StockLine } from './contract.ts';

export const StockReserved = defineEvent('StockReserved', 1, z.object({ orderId: z.string(), lines: z.array(StockLine) }), 'Stock was held for an order');
export const StockCommitted = defineEvent('StockCommitted', 1, z.object({ orderId: z.string(), lines: z.array(StockLine) }), 'Held stock left the warehouse');
export const StockReleased = defineEvent('StockReleased', 1, z.object({ orderId: z.string(), lines: z.array(StockLine), reason: z.enum(['released', 'expired']) }), 'Held stock went back on the shelf');
export const StockRestocked = defineEvent('StockRestocked', 1, z.object({ sku: Sku, quantity: z.number().int().positive(), onHand: z.number().int() }), 'Stock arrived');
export const LowStock = defineEvent('LowStock', 1, z.object({ sku: Sku, available: z.number().int().nonnegative(), threshold: z.number().int().nonnegative() }), 'Available stock fell below the threshold');
