// Requests holding their answer until an order leaves PENDING (GET …/orders/:id?waitSeconds=N).
// They are woken when a saga settles the order in this process, or when its OrderConfirmed /
// OrderCancelled reaches this instance; a woken request reads the order again, and one that hears
// nothing still reads it again every `recheckMs` (another instance may have settled it).

export interface OrderWatch {
  /** Settles when the order may have changed (or the watchers were closed). */
  readonly changed: Promise<void>;
  stop(): void;
}

export interface OrderWatchers {
  /** Watch before reading the order, so a settle between the read and the wait is not missed. */
  watch(orderId: string): OrderWatch;
  /** The order's saga has settled (committed): wake whoever waits on it. */
  changed(orderId: string): void;
  /** Shutting down: wake everyone, and no further wait holds a request. */
  close(): void;
  readonly closed: boolean;
  readonly recheckMs: number;
}

export function orderWatchers(recheckMs: number): OrderWatchers {
  const waiting = new Map<string, Set<() => void>>();
  let closed = false;
  return {
    recheckMs,
    get closed() {
      return closed;
    },
    watch(orderId) {
      if (closed) return { changed: Promise.resolve(), stop() {} };
      let wake!: () => void;
      const changed = new Promise<void>((r) => (wake = r));
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
    changed(orderId) {
      const set = waiting.get(orderId);
      if (!set) return;
      waiting.delete(orderId);
      for (const wake of set) wake();
    },
    close() {
      closed = true;
      for (const set of waiting.values()) for (const wake of set) wake();
      waiting.clear();
    },
  };
}
