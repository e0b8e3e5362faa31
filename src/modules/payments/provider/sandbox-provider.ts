// A built-in sandbox driven by test tokens, so every resilience path can be triggered from the API:
// tok_ok approves, tok_decline declines, tok_fail fails transiently, tok_slow answers after the
// timeout has passed.
import { createHash } from 'node:crypto';
import { ProviderDeclined, ProviderUnavailable, type ChargeRequest, type PaymentProvider } from './payment-provider.ts';

export function sandboxProvider(slowMs: number): PaymentProvider & { refunded: Set<string> } {
  const refunded = new Set<string>();
  return {
    refunded,
    // Each sandbox token stands for an instrument with a behaviour of its own: its own route.
    routeOf: (token) => token,
    async refund(providerRef: string) {
      refunded.add(providerRef);
    },
    async charge(req: ChargeRequest, signal: AbortSignal) {
      switch (req.token) {
        case 'tok_decline':
          throw new ProviderDeclined('card_declined');
        case 'tok_fail':
          throw new ProviderUnavailable('sandbox: upstream error 503');
        case 'tok_slow':
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(resolve, slowMs);
            signal.addEventListener('abort', () => {
              clearTimeout(timer);
              reject(new ProviderUnavailable('sandbox: request abandoned'));
            });
          });
          break;
      }
      // Same key, same reference: a repeated charge is recognised, as a real provider would.
      return { providerRef: `sbx_${createHash('sha256').update(req.idempotencyKey).digest('hex').slice(0, 16)}` };
    },
  };
}
