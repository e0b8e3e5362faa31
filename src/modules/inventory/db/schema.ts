import { defineSchema } from '../../../platform/data/schema-kit.ts';

export const inventorySchema = defineSchema('inventory', (k) => ({
  stock: k.table('stock', {
    sku: k.text('sku').primaryKey(),
    onHand: k.bigint('on_hand').notNull(),
    reserved: k.bigint('reserved').notNull(),
    lowStockThreshold: k.int('low_stock_threshold').notNull(),
    updatedAt: k.timestamp('updated_at').notNull(),
  }),
  reservations: k.table(
    'reservations',
    {
      orderId: k.text('order_id').primaryKey(),
      status: k.text('status').$type<'held' | 'committed' | 'released' | 'expired'>().notNull(),
      lines: k.json<{ sku: string; quantity: number }[]>('lines').notNull(),
      expiresAt: k.timestamp('expires_at').notNull(),
      createdAt: k.timestamp('created_at').notNull(),
      updatedAt: k.timestamp('updated_at').notNull(),
    },
    (t) => [k.index('reservations_status_expiry_idx').on(t.status, t.expiresAt)],
  ),
}));

export type InventoryTables = ReturnType<typeof inventorySchema.tables>;
