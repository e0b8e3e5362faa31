// Calls issued in the same turn of the event loop, with the same key, leave together: a module that
// makes many calls at once (a loop of lookups, many requests in flight) pays one request, one
// socket write and one pass through the provider's HTTP pipeline for up to `max` of them instead
// of one each. A call alone in its turn goes out as it would without the coalescer, so a single
// call waits for nothing but the end of the turn it was made in (setImmediate: after the I/O
// callbacks and promise reactions that were already due, which is when calls answered together
// make their next calls).
//
// A turn's calls for a key with nothing of its own in flight leave as two requests rather than one
// (when there are at least 2 × SPLIT_MIN of them): with a single request out, the caller waits while
// the provider works and the provider waits while the caller does; with two, each side always has
// one to work on. The next turn's calls (those the first answer releases) go as one request while
// the other is still out, so the two alternate without more requests than that.

export interface CallCoalescer<I, O> {
  submit(key: string, item: I): Promise<O>;
}

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (reason: unknown) => void;
}

/** A send's promise, or its synchronous throw as a rejection: every request is answered once, and the rest of the turn still goes. */
function started<T>(send: () => Promise<T>): Promise<T> {
  try {
    return send();
  } catch (err) {
    return Promise.reject(err);
  }
}

/** The fewest calls each half of a split turn carries: below 2 × this, a turn's calls stay one request. */
export const SPLIT_MIN = 4;

export function callCoalescer<I, O>(o: {
  max: number;
  /** One call on its own. */
  sendOne: (item: I) => Promise<O>;
  /** Several calls in one request: one settled result per item, in order. */
  sendMany: (items: I[]) => Promise<PromiseSettledResult<O>[]>;
}): CallCoalescer<I, O> {
  let pending = new Map<string, Waiting<I, O>[]>();
  let scheduled = false;
  /** Requests out per key (single calls and batches alike). */
  const out = new Map<string, number>();
  const sent = (key: string) => out.set(key, (out.get(key) ?? 0) + 1);
  const answered = (key: string) => {
    const n = (out.get(key) ?? 1) - 1;
    if (n === 0) out.delete(key);
    else out.set(key, n);
  };

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
    for (const [key, waiting] of groups) {
      const halves = !out.has(key) && waiting.length >= 2 * SPLIT_MIN;
      const size = Math.min(o.max, halves ? Math.ceil(waiting.length / 2) : waiting.length);
      for (let i = 0; i < waiting.length; i += size) {
        const chunk = waiting.slice(i, i + size);
        sent(key);
        const done = () => answered(key);
        if (chunk.length === 1) {
          const [w] = chunk;
          started(() => o.sendOne(w!.item)).finally(done).then(w!.resolve, w!.reject);
        } else {
          started(() => o.sendMany(chunk.map((w) => w.item))).finally(done).then(
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
