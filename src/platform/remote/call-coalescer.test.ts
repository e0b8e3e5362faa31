// How the coalescer cuts each turn's calls into requests: one per turn, or two halves when nothing
// of the same key is out (so caller and provider each have a request to work on), never more than
// `max` calls a request, a lone call alone. Requests here are promises the test settles itself.
import { describe, expect, it } from 'vitest';
import { callCoalescer, SPLIT_MIN } from './call-coalescer.ts';

interface Sent {
  items: number[];
  answer: () => void;
}

function recorder(max: number) {
  const sent: Sent[] = [];
  const coalescer = callCoalescer<number, number>({
    max,
    sendOne: (item) => new Promise((resolve) => sent.push({ items: [item], answer: () => resolve(item * 10) })),
    sendMany: (items) =>
      new Promise((resolve) => sent.push({ items, answer: () => resolve(items.map((i) => ({ status: 'fulfilled', value: i * 10 }))) })),
  });
  const turn = () => new Promise((r) => setImmediate(r));
  const submit = (key: string, from: number, n: number) => Array.from({ length: n }, (_, i) => coalescer.submit(key, from + i));
  return { sent, turn, submit };
}

const sizes = (sent: Sent[]) => sent.map((s) => s.items.length);

describe('call coalescer', () => {
  it('sends a turn of 2 × SPLIT_MIN calls or more as two halves when nothing is out', async () => {
    const r = recorder(64);
    const answers = r.submit('k', 0, 16);
    await r.turn();
    expect(sizes(r.sent)).toEqual([8, 8]);
    expect(r.sent.flatMap((s) => s.items)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    for (const s of r.sent) s.answer();
    expect(await Promise.all(answers)).toEqual(Array.from({ length: 16 }, (_, i) => i * 10));
  });

  it('sends the next turn’s calls as one request while one of the same key is still out', async () => {
    const r = recorder(64);
    const first = r.submit('k', 0, 16);
    await r.turn();
    r.sent[0]!.answer();
    await first[0];
    // The first half is answered, the second still out: the calls its answer released go together.
    const next = r.submit('k', 100, 8);
    await r.turn();
    expect(sizes(r.sent)).toEqual([8, 8, 8]);
    for (const s of r.sent.slice(1)) s.answer();
    await Promise.all([...first, ...next]);
    // Nothing out again: the next large turn splits again.
    r.submit('k', 200, 10);
    await r.turn();
    expect(sizes(r.sent.slice(3))).toEqual([5, 5]);
  });

  it('keeps a turn below 2 × SPLIT_MIN calls whole, and a lone call alone', async () => {
    const r = recorder(64);
    r.submit('k', 0, 2 * SPLIT_MIN - 1);
    await r.turn();
    expect(sizes(r.sent)).toEqual([2 * SPLIT_MIN - 1]);
    r.sent[0]!.answer();
    await r.turn();
    r.submit('k', 50, 1);
    await r.turn();
    expect(sizes(r.sent)).toEqual([2 * SPLIT_MIN - 1, 1]);
  });

  it('never puts more than `max` calls in a request, halves or not', async () => {
    const r = recorder(4);
    r.submit('k', 0, 16);
    await r.turn();
    expect(sizes(r.sent)).toEqual([4, 4, 4, 4]);
  });

  it('counts what is out per key: another key’s request does not stop a split', async () => {
    const r = recorder(64);
    r.submit('a', 0, 3);
    await r.turn();
    r.submit('b', 10, 12);
    await r.turn();
    expect(r.sent.map((s) => s.items.length)).toEqual([3, 6, 6]);
  });

  it('counts a request that failed as answered', async () => {
    const sent: (() => void)[] = [];
    const coalescer = callCoalescer<number, number>({
      max: 64,
      sendOne: () => Promise.reject(new Error('down')),
      sendMany: (items) => new Promise((_, reject) => sent.push(() => reject(new Error(`down ${items.length}`)))),
    });
    const calls = Array.from({ length: 8 }, (_, i) => coalescer.submit('k', i));
    await new Promise((r) => setImmediate(r));
    expect(sent).toHaveLength(2);
    for (const fail of sent) fail();
    expect((await Promise.allSettled(calls)).every((c) => c.status === 'rejected')).toBe(true);
    coalescer.submit('k', 100).catch(() => undefined);
    for (let i = 0; i < 7; i++) coalescer.submit('k', 101 + i).catch(() => undefined);
    await new Promise((r) => setImmediate(r));
    // Nothing out after the failures: the turn of 8 splits again.
    expect(sent).toHaveLength(4);
  });

  it('answers calls whose send throws at once, counts that request as answered, and still sends the rest of the turn', async () => {
    let throwing = true;
    const sent: number[][] = [];
    const coalescer = callCoalescer<number, number>({
      max: 64,
      sendOne: async (item) => item,
      sendMany: (items) => {
        if (throwing) {
          throwing = false;
          throw new Error('cannot send');
        }
        sent.push(items);
        return Promise.resolve(items.map((i) => ({ status: 'fulfilled' as const, value: i })));
      },
    });
    const a = Array.from({ length: 8 }, (_, i) => coalescer.submit('k', i));
    const b = coalescer.submit('other', 100);
    const settled = await Promise.allSettled([...a, b]);
    // The first half failed as its send threw; the second half and the other key still went.
    expect(settled.slice(0, 4).every((r) => r.status === 'rejected')).toBe(true);
    expect(settled.slice(4).map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'))).toEqual([4, 5, 6, 7, 100]);
    expect(sent).toEqual([[4, 5, 6, 7]]);
    // Nothing left counted as out: the next turn of 8 splits again.
    await Promise.all(Array.from({ length: 8 }, (_, i) => coalescer.submit('k', 10 + i)));
    expect(sent.slice(1)).toEqual([[10, 11, 12, 13], [14, 15, 16, 17]]);
  });
});
