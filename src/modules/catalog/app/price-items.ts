import { MixedCurrencies, ProductNotFound } from '../contract.ts';
import type { CatalogDeps } from './catalog-deps.ts';

export async function priceItems(deps: CatalogDeps, items: { sku: string; quantity: number }[]) {
  const skus = [...new Set(items.map((i) => i.sku))];
  const found = new Map((await deps.products.findMany(deps.store.db, skus)).map((p) => [p.sku, p]));
  const missing = skus.filter((s) => !found.has(s));
  if (missing.length) throw new ProductNotFound(`Unknown sku(s): ${missing.join(', ')}`, { skus: missing });
  const currencies = new Set([...found.values()].map((p) => p.currency));
  if (currencies.size > 1) throw new MixedCurrencies();
  const lines = items.map((i) => {
    const p = found.get(i.sku)!;
    return { sku: p.sku, name: p.name, quantity: i.quantity, unitPriceMinor: p.priceMinor, lineTotalMinor: p.priceMinor * i.quantity };
  });
  return { lines, totalMinor: lines.reduce((s, l) => s + l.lineTotalMinor, 0), currency: [...currencies][0]! };
}
