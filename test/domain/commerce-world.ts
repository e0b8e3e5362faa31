// What the commerce tests need from a running system, whatever its topology: a base URL to send
// HTTP to and a way to mint tokens. The same suite runs in-process and with modules extracted.
import { client, type ReplyObserver } from '../support/http.ts';
import { eventually } from '../support/eventually.ts';
import { randomBytes } from 'node:crypto';

/** Short provider timeouts keep the failure paths quick; a lenient breaker keeps them independent. */
export const domainTestEnv = { PAYMENT_TIMEOUT_MS: '150', PAYMENT_SLOW_MS: '1000', PAYMENT_BREAKER_THRESHOLD: '1000', SAGA_POLL_MS: '50', SAGA_RETRY_DELAY_MS: '50', BUS_POLL_MS: '100' };

export interface World {
  baseUrl: string;
  token(sub: string, scopes?: string[]): Promise<string>;
  /** Sees every answer the actors' clients get. */
  observe?: ReplyObserver;
}

export function uniqueSku(prefix = 'SKU'): string {
  return `${prefix}-${randomBytes(4).toString('hex').toUpperCase()}`;
}

export async function actors(world: World) {
  const admin = client(world.baseUrl, await world.token('ops', ['admin']), world.observe);
  const customer = async (name = `cust-${randomBytes(4).toString('hex')}`) => ({ name, api: client(world.baseUrl, await world.token(name), world.observe) });
  return {
    admin,
    customer,
    /** A product priced `priceMinor` EUR with `stock` on the shelf. */
    async product(priceMinor: number, stock: number, threshold = 0) {
      const sku = uniqueSku();
      const p = await admin.post('/api/v1/products', { sku, name: `Product ${sku}`, priceMinor, currency: 'EUR' });
      if (p.status !== 201) throw new Error(`creating ${sku}: ${p.status} ${JSON.stringify(p.body)}`);
      const s = await admin.post(`/api/v1/inventory/${sku}/restock`, { quantity: stock, lowStockThreshold: threshold });
      if (s.status !== 200) throw new Error(`stocking ${sku}: ${s.status} ${JSON.stringify(s.body)}`);
      return sku;
    },
  };
}

export async function settled(api: ReturnType<typeof client>, orderId: string, timeoutMs = 20_000) {
  return eventually(async () => {
    const r = await api.get(`/api/v1/orders/${orderId}`);
    return r.status === 200 && r.body.status !== 'PENDING' ? r.body : undefined;
  }, `order ${orderId} settled`, timeoutMs);
}
