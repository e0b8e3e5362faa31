// The chunks in front of the log's destination: lines reach it in the order they were written,
// in chunks of at least the threshold, or by the periodic flush, or all at once on flushSync.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LineBuffer } from './line-buffer.ts';

function sink() {
  const chunks: string[] = [];
  let syncs = 0;
  return { chunks, syncs: () => syncs, write: (c: string) => chunks.push(c), flushSync: () => void syncs++ };
}

afterEach(() => vi.useRealTimers());

describe('line buffer', () => {
  it('hands lines over in order, a chunk once it holds the threshold', () => {
    const s = sink();
    const b = new LineBuffer(s, 30, 60_000);
    b.write('line 1 ......\n');
    b.write('line 2 ......\n');
    expect(s.chunks).toEqual([]);
    b.write('line 3 ......\n');
    expect(s.chunks).toEqual(['line 1 ......\nline 2 ......\nline 3 ......\n']);
    b.write('line 4\n');
    expect(s.chunks).toHaveLength(1);
  });

  it('hands over what it holds on the periodic flush, and nothing when it holds nothing', () => {
    vi.useFakeTimers();
    const s = sink();
    const b = new LineBuffer(s, 4096, 100);
    b.write('quiet line\n');
    vi.advanceTimersByTime(99);
    expect(s.chunks).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(s.chunks).toEqual(['quiet line\n']);
    vi.advanceTimersByTime(500);
    expect(s.chunks).toHaveLength(1);
  });

  it('writes everything out on flushSync, then has the sink flush too', () => {
    const s = sink();
    const b = new LineBuffer(s, 4096, 60_000);
    b.write('a\n');
    b.write('b\n');
    b.flushSync();
    expect(s.chunks).toEqual(['a\nb\n']);
    expect(s.syncs()).toBe(1);
    b.flushSync();
    expect(s.chunks).toHaveLength(1);
  });

  it('calls back once everything is written when pino’s logger.flush(cb) asks', async () => {
    const s = sink();
    const b = new LineBuffer(s, 4096, 60_000);
    const logger = (await import('pino')).pino({ base: {} }, b);
    logger.info('one');
    await new Promise<void>((done, fail) => logger.flush((err) => (err ? fail(err) : done())));
    expect(s.chunks.join('')).toMatch(/"msg":"one"/);
    expect(s.syncs()).toBe(1);
  });
});
