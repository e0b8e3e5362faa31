// The per-attempt timeout both policy builders share: an attempt that runs past it is aborted
// through its signal and fails as a timeout; one that returned is left alone (its signal is
// never aborted: aborting built a DOMException with a stack on every call).
import { describe, expect, it } from 'vitest';
import { TaskCancelledError } from 'cockatiel';
import { partitionedResilience, policySet, type ResilienceOptions } from './policy.ts';

const options: ResilienceOptions = {
  name: 'test-dependency',
  timeoutMs: 50,
  maxAttempts: 1,
  isTransient: () => false,
  breakerThreshold: 5,
  halfOpenAfterMs: 1_000,
  concurrency: 4,
};

/** An attempt that never settles by itself; its signal is kept to look at. */
function hangs(seen: AbortSignal[]) {
  return (signal: AbortSignal) => {
    seen.push(signal);
    return new Promise<never>(() => undefined);
  };
}

describe('partitioned resilience: the timeout on each attempt', () => {
  it('aborts an attempt that runs past it and fails the call as a timeout', async () => {
    const seen: AbortSignal[] = [];
    const r = partitionedResilience(options).partition('route-a');
    await expect(r.execute(hangs(seen))).rejects.toBeInstanceOf(TaskCancelledError);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.aborted).toBe(true);
  });

  it('leaves the signal of an attempt that returned unaborted', async () => {
    let signal: AbortSignal | undefined;
    const r = partitionedResilience(options).partition('route-a');
    await expect(r.execute(async (s) => ((signal = s), 'done'))).resolves.toBe('done');
    expect(signal!.aborted).toBe(false);
  });
});

describe('a policy set: the same timeout on each attempt', () => {
  const set = () =>
    policySet({ isTransient: () => false, timeoutMs: 50, retries: 0, backoffMs: 5, maxBackoffMs: 10, breakerFailures: 5, halfOpenAfterMs: 1_000, concurrency: 4, queue: 4 });

  it('aborts an attempt that runs past it', async () => {
    const seen: AbortSignal[] = [];
    await expect(set().once.execute(({ signal }) => hangs(seen)(signal))).rejects.toBeInstanceOf(TaskCancelledError);
    expect(seen[0]!.aborted).toBe(true);
  });

  it('leaves the signal of an attempt that returned unaborted', async () => {
    let signal: AbortSignal | undefined;
    await expect(set().retrying.execute(async (c) => ((signal = c.signal), 'done'))).resolves.toBe('done');
    expect(signal!.aborted).toBe(false);
  });
});
