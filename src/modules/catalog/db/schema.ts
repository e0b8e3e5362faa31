import { defineSchema } from '../../../platform/data/schema-kit.ts';

export const catalogSchema = defineSchema('catalog', (k) => ({
  products: k.table(
    'products',
    {
      sku: k.text('sku').primaryKey(),
      name: k.text('name').notNull(),
      nameLower: k.text('name_lower').notNull(),
      description: k.text('description').notNull().default(''),
      priceMinor: k.bigint('price_minor').notNull(),
      currency: k.text('currency').notNull(),
      version: k.int('version').notNull(),
      createdAt: k.timestamp('created_at').notNull(),
      updatedAt: k.timestamp('updated_at').notNull(),
    },
    (t) => [k.index('products_currency_idx').on(t.currency, t.sku)],
  ),
}));

export type CatalogTables = ReturnType<typeof catalogSchema.tables>;
