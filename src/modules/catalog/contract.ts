import { z } from 'zod';
import { defineContract, operation } from '../../platform/contracts/define-contract.ts';
import { defineError } from '../../platform/errors/domain-error.ts';

export const Sku = z.string().regex(/^[A-Z0-9][A-Z0-9-]{1,39}$/, 'must be 2-40 upper-case letters, digits or dashes');
export const Currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR');

export const ProductView = z.object({
  sku: Sku,
  name: z.string(),
  description: z.string(),
  priceMinor: z.number().int().nonnegative(),
  currency: Currency,
  version: z.number().int().positive(),
  updatedAt: z.string(),
});
export type ProductView = z.infer<typeof ProductView>;

export const ProductNotFound = defineError<{ skus: string[] }>('ProductNotFound', 404, 'No such product');
export const MixedCurrencies = defineError('MixedCurrencies', 422, 'The items are priced in different currencies');

const PricedLine = z.object({
  sku: Sku,
  name: z.string(),
  quantity: z.number().int().positive(),
  unitPriceMinor: z.number().int().nonnegative(),
  lineTotalMinor: z.number().int().nonnegative(),
});

/** What other modules may ask the catalog (queries go through the contract). */
export const catalogContract = defineContract({
  name: 'catalog',
  errors: [ProductNotFound, MixedCurrencies],
  operations: {
    getProduct: operation({
      input: z.object({ sku: Sku }),
      output: ProductView,
      idempotent: true,
      description: 'One product by sku',
    }),
    priceItems: operation({
      input: z.object({ items: z.array(z.object({ sku: Sku, quantity: z.number().int().positive() })).min(1).max(100) }),
      output: z.object({ lines: z.array(PricedLine), totalMinor: z.number().int().nonnegative(), currency: Currency }),
      idempotent: true,
      description: 'Current prices for a basket; fails with ProductNotFound naming every unknown sku',
    }),
  },
});
