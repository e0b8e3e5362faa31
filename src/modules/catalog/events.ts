import { z } from 'zod';
import { defineEvent } from '../../platform/bus/define-event.ts';
import { Currency, Sku } from './contract.ts';

export const ProductCreated = defineEvent(
  'ProductCreated',
  1,
  z.object({ sku: Sku, name: z.string(), priceMinor: z.number().int().nonnegative(), currency: Currency }),
  'A product was added to the catalog',
);

export const ProductUpdated = defineEvent(
  'ProductUpdated',
  1,
  z.object({ sku: Sku, name: z.string(), priceMinor: z.number().int().nonnegative(), currency: Currency, version: z.number().int() }),
  'A product name or price changed',
);
