// A product and its invariants: prices are whole minor units (no floats near money), names are
// trimmed and non-empty, and every change bumps the version so readers can spot stale copies.

export interface Product {
  sku: string;
  name: string;
  description: string;
  priceMinor: number;
  currency: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewProduct {
  sku: string;
  name: string;
  description?: string;
  priceMinor: number;
  currency: string;
}

export type ProductChanges = Partial<Pick<Product, 'name' | 'description' | 'priceMinor' | 'currency'>>;

export function createProduct(input: NewProduct, now: Date): Product {
  return {
    sku: input.sku,
    name: input.name.trim(),
    description: input.description?.trim() ?? '',
    priceMinor: input.priceMinor,
    currency: input.currency,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
}

export function changeProduct(product: Product, changes: ProductChanges, now: Date): Product {
  return {
    ...product,
    ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)),
    name: (changes.name ?? product.name).trim(),
    version: product.version + 1,
    updatedAt: now,
  };
}

export function toView(p: Product) {
  return {
    sku: p.sku,
    name: p.name,
    description: p.description,
    priceMinor: p.priceMinor,
    currency: p.currency,
    version: p.version,
    updatedAt: p.updatedAt.toISOString(),
  };
}
