// The port to the outside payment provider. The sandbox stands in for a real one; a real adapter
// would implement the same interface and keep the same error meanings.

export interface ChargeRequest {
  /** The provider de-duplicates on this: the same key never charges twice. */
  idempotencyKey: string;
  amountMinor: number;
  currency: string;
  token: string;
}

export interface PaymentProvider {
  /**
   * The route a payment method travels at the provider (a card network, an acquirer). Failures
   * are judged per route: one that keeps failing opens its own circuit and leaves the others be.
   */
  routeOf(token: string): string;
  charge(req: ChargeRequest, signal: AbortSignal): Promise<{ providerRef: string }>;
  /** Gives a capture back at the provider (a charge that landed after its order was voided). */
  refund(providerRef: string, signal: AbortSignal): Promise<void>;
}

/** The provider said no: not worth a retry, and not a sign the provider is unwell. */
export class ProviderDeclined extends Error {}
/**
 * The provider could not answer this time: worth a retry, and counted by the circuit breaker.
 * `notAttempted` means the call never left (circuit open, bulkhead full): nothing can have been
 * charged, and the caller may simply try again later.
 */
export class ProviderUnavailable extends Error {
  readonly notAttempted: boolean;
  constructor(message: string, notAttempted = false) {
    super(message);
    this.notAttempted = notAttempted;
  }
}
