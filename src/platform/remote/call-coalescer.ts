// Calls issued in the same turn of the event loop, with the same key, leave together: a module that
// makes many calls at once (a loop of lookups, many requests in flight) pays one request, one
// socket write and one pass through the provider's HTTP pipeline for up to `max` of them instead
// of one each. A call alone in its turn goes out as it would without the coalescer, so a single
// call waits for nothing but the end of the turn it was made in (setImmediate: after the I/O
// callbacks and promise reactions that were already due, which is when calls answered together
// make their next calls).

export interface CallCoalescer<I, O> {
  submit(key: string, item: I): Promise<O>;
}

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (reason: unknown) => void;
}

export function callCoalescer<I, O>(o: {
  max: number;
  /** One call on its own. */
  sendOne: (item: I) => Promise<O>;
  /** Several calls in one request: one settled result per item, in order. */
  sendMany: (items: I[]) => Promise<PromiseSettledResult<O>[]>;
}): CallCoalescer<I, O> {
  let pending = new Map<string, Waiting<I, O>[]>();
  let scheduled = false;

  function settle(waiting: Waiting<I, O>[], results: PromiseSettledResult<O>[]): void {
    waiting.forEach((w, i) => {
      const r = results[i];
      if (r?.status === 'fulfilled') w.resolve(r.value);
      else w.reject(r ? r.reason : new Error('the batch answered fewer results than calls'));
    });
  }

  function flush(): void {
    scheduled = false;
    const groups = pending;
    pending = new Map();
    for (const waiting of groups.values()) {
      for (let i = 0; i < waiting.length; i += o.max) {
        const chunk = waiting.slice(i, i + o.max);
        if (chunk.length === 1) {
          const [w] = chunk;
          o.sendOne(w!.item).then(w!.resolve, w!.reject);
        } else {
          o.sendMany(chunk.map((w) => w.item)).then(
            (results) => settle(chunk, results),
            (err) => chunk.forEach((w) => w.reject(err)),
          );
        }
      }
    }
  }

  return {
    submit(key, item) {
      return new Promise<O>((resolve, reject) => {
        const group = pending.get(key);
        if (group) group.push({ item, resolve, reject });
        else pending.set(key, [{ item, resolve, reject }]);
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}
