import { describe, expect, it } from 'vitest';
import { inProcessTransport } from './in-process-transport.ts';
import type { EventEnvelope } from './envelope.ts';
import type { ConsumeFn } from './transport.ts';

const envelope = (id: string) => ({ id, type: 'Thing', version: 1, source: 'test', occurredAt: new Date().toISOString(), correlationId: id, payload: {} }) as unknown as EventEnvelope;

function recordingConsumer(failFirst: Set<string>) {
  const handled: string[] = [];
  const started: string[] = [];
  const attempts = new Map<string, number>();
  const consume = Object.assign(
    async (e: EventEnvelope) => {
      started.push(e.id);
      const n = (attempts.get(e.id) ?? 0) + 1;
      attempts.set(e.id, n);
      await Promise.resolve();
      if (n === 1 && failFirst.has(e.id)) throw new Error(`${e.id} fails once`);
      handled.push(e.id);
    },
    {
      giveUp: async () => {},
      together: async () => {
        throw new Error('the in-process transport hands events over one by one');
      },
    },
  ) as ConsumeFn;
  return { consume, handled, started };
}

describe('in-process transport', () => {
  it('starts every delivery of a batch at once, in commit order, and resolves only once all are handled', async () => {
    const t = inProcessTransport({ maxAttempts: 5, retryDelayMs: 1 });
    const { consume, handled, started } = recordingConsumer(new Set());
    t.consume('sub', consume);
    const delivering = t.deliver(['a', 'b', 'c'].map((id) => ({ envelope: envelope(id), subscribers: ['sub'] })));
    // Every first attempt began in the turn deliver was called.
    expect(started).toEqual(['a', 'b', 'c']);
    await delivering;
    expect(handled).toEqual(['a', 'b', 'c']);
  });

  it('retries a failed event after the ones behind it, and loses none', async () => {
    const t = inProcessTransport({ maxAttempts: 5, retryDelayMs: 1 });
    const { consume, handled } = recordingConsumer(new Set(['b']));
    t.consume('sub', consume);
    await t.deliver(['a', 'b', 'c'].map((id) => ({ envelope: envelope(id), subscribers: ['sub'] })));
    expect(handled).toEqual(['a', 'c', 'b']);
  });

  it('refuses a batch for a subscriber that does not run in this process, after handling the rest', async () => {
    const t = inProcessTransport({ maxAttempts: 5, retryDelayMs: 1 });
    const { consume, handled } = recordingConsumer(new Set());
    t.consume('sub', consume);
    await expect(t.deliver([{ envelope: envelope('a'), subscribers: ['sub', 'elsewhere'] }])).rejects.toThrow(/does not run in this process/);
    expect(handled).toEqual(['a']);
  });
});
