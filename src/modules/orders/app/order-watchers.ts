// Requests holding their answer until an order leaves PENDING (GET …/orders/:id?waitSeconds=N).
// They are woken when a saga settles the order in this process, or when its OrderConfirmed /
// OrderCancelled reaches this instance. A saga that settled the order here hands over the row its
// commit wrote, which the request answers without reading it again; a request woken by an event
// reads the order again, and one that hears nothing still reads it again every `recheckMs`
// (another instance may have settled it). While this process drives the saga of an order it
// placed, it keeps the placed row: a held request starts from it instead of reading the order
// (it is PENDING until that saga settles it, and nobody else writes it while the lease is ours).
import type { OrderRecord } from '../db/schema.ts';

export interface OrderWatch {
  /**
   * Settles when the order may have changed (or the watchers were closed): with the order as the
   * commit that settled it left it, when the saga of this process did.
   */
  readonly changed: Promise<OrderRecord | undefined>;
  stop(): void;
}

export interface OrderWatchers {
  /** Watch before reading the order, so a settle between the read and the wait is not missed. */
  watch(orderId: string): OrderWatch;
  /** The order may have changed: wake whoever waits on it, with the committed row when there is one. */
  changed(orderId: string, settled?: OrderRecord): void;
  /** This process placed `order` and drives its saga: held requests start from it until `released`. */
  driving(order: OrderRecord): void;
  /** The drive of this order's saga here has ended (settled, waiting for a retry, or lost). */
  released(orderId: string): void;
  /** The order as placed, while this process drives its saga; else undefined (read it). */
  placed(orderId: string): OrderRecord | undefined;
  /** Shutting down: wake everyone, and no further wait holds a request. */
  close(): void;
  readonly closed: boolean;
  readonly recheckMs: number;
}

export function orderWatchers(recheckMs: number): OrderWatchers {
  const waiting = new Map<string, Set<(settled?: OrderRecord) => void>>();
  const driven = new Map<string, OrderRecord>();
  let closed = false;
  return {
    recheckMs,
    get closed() {
      return closed;
    },
    watch(orderId) {
      if (closed) return { changed: Promise.resolve(undefined), stop() {} };
      let wake!: (settled?: OrderRecord) => void;
      const changed = new Promise<OrderRecord | undefined>((r) => (wake = r));
      const set = waiting.get(orderId) ?? new Set();
      set.add(wake);
      waiting.set(orderId, set);
      return {
        changed,
        stop() {
          set.delete(wake);
          if (set.size === 0 && waiting.get(orderId) === set) waiting.delete(orderId);
        },
      };
    },
    driving(order) {
      driven.set(order.id, order);
    },
    released(orderId) {
      driven.delete(orderId);
    },
    placed(orderId) {
      return driven.get(orderId);
    },
    changed(orderId, settled) {
      // Whatever changed it, the placed row no longer says how it stands.
      driven.delete(orderId);
      const set = waiting.get(orderId);
      if (!set) return;
      waiting.delete(orderId);
      for (const wake of set) wake(settled);
    },
    close() {
      closed = true;
      driven.clear();
      for (const set of waiting.values()) for (const wake of set) wake();
      waiting.clear();
    },
  };
}
