// The canary's judgement with a hand-driven clock: no timers, no traffic, only the rules.
import { describe, expect, it } from 'vitest';
import { CanaryController, isActive } from './canary-controller.ts';
import { canarySchema } from './config-schema.ts';

function harness(overrides: Record<string, unknown> = {}) {
  let now = 0;
  const weights: number[] = [];
  const canary = new CanaryController({ setWeight: (_r, w) => weights.push(w), now: () => now }, 0);
  const config = canarySchema.parse({
    steps: [{ weight: 10, dwellMs: 1000 }, { weight: 50, dwellMs: 1000 }, { weight: 100, dwellMs: 1000 }],
    minRequests: 10,
    maxErrorRateIncrease: 0.02,
    maxP99Ratio: 1.5,
    p99SlackMs: 2,
    ...overrides,
  });
  const feed = (side: 'old' | 'new', n: number, ms: number, errors = 0) => {
    for (let i = 0; i < n; i++) canary.record('r', side, ms, i < errors);
  };
  return { canary, config, weights, feed, advance: (ms: number) => (now += ms) };
}

describe('canary controller', () => {
  it('applies an operator command wherever it lands: start with the steps in force, pause, resume, abort', () => {
    const h = harness();
    const configOf = (route: string) => (route === 'r' ? h.config : undefined);
    h.canary.apply({ op: 'start', route: 'unknown' }, configOf);
    expect(h.canary.status('unknown')).toBeUndefined();
    h.canary.apply({ op: 'start', route: 'r' }, configOf);
    expect([h.canary.status('r'), h.weights]).toEqual(['running', [10]]);
    h.canary.apply({ op: 'pause', route: 'r' }, configOf);
    expect(h.canary.status('r')).toBe('paused');
    expect(isActive(h.canary.status('r'))).toBe(true);
    h.canary.apply({ op: 'resume', route: 'r' }, configOf);
    expect(h.canary.status('r')).toBe('running');
    h.canary.apply({ op: 'abort', route: 'r', reason: 'by hand' }, configOf);
    expect(h.canary.status('r')).toBe('aborted');
    expect(isActive(h.canary.status('r'))).toBe(false);
  });

  it('holds a step until both its dwell time and its minimum requests are reached', () => {
    const h = harness();
    h.canary.start('r', h.config);
    expect(h.weights).toEqual([10]);
    h.advance(2000);
    h.feed('old', 50, 10);
    h.feed('new', 5, 10);
    h.canary.tick();
    expect(h.weights).toEqual([10]); // too few requests on the new side to judge
    h.feed('new', 5, 10);
    h.canary.tick();
    expect(h.weights).toEqual([10, 50]);
  });

  it('judges the last step (weight 100, no old traffic) against the previous step’s old side', () => {
    const h = harness();
    h.canary.start('r', h.config);
    for (const _ of [10, 50]) {
      h.feed('old', 20, 10);
      h.feed('new', 20, 10);
      h.advance(1000);
      h.canary.tick();
    }
    expect(h.weights).toEqual([10, 50, 100]);
    h.feed('new', 20, 40); // 40 ms > 10 ms × 1.5 + 2 ms
    h.canary.tick();
    expect(h.weights.at(-1)).toBe(0);
    const snap = h.canary.snapshot().r as { status: string; history: { reason?: string }[] };
    expect(snap.status).toBe('rolled-back');
    expect(snap.history.at(-1)!.reason).toMatch(/^p99 40\.0 ms on the new side vs 10\.0 ms/);
  });

  it('rolls back on errors beyond the allowed increase, and not within it', () => {
    const ok = harness();
    ok.canary.start('r', ok.config);
    ok.feed('old', 100, 10, 1);
    ok.feed('new', 100, 10, 2); // 2% vs 1% + 2% allowed
    ok.canary.tick();
    expect(ok.canary.isRunning('r')).toBe(true);

    const bad = harness();
    bad.canary.start('r', bad.config);
    bad.feed('old', 100, 10, 1);
    bad.feed('new', 100, 10, 10);
    bad.canary.tick();
    expect(bad.weights).toEqual([10, 0]);
  });

  it('keeps its step and tries again when a weight cannot be written, without throwing from the timer', () => {
    let now = 0;
    let failing = true;
    const weights: number[] = [];
    const failures: string[] = [];
    const canary = new CanaryController(
      {
        setWeight: (_r, w) => {
          if (failing && w !== 10) throw Object.assign(new Error('/tmp/x.json: invalid JSON'), { reason: 'invalid JSON at line 1' });
          weights.push(w);
        },
        now: () => now,
        onFailure: (_r, m) => failures.push(m),
      },
      0,
    );
    canary.start('r', canarySchema.parse({ steps: [{ weight: 10, dwellMs: 1000 }, { weight: 50, dwellMs: 1000 }], minRequests: 1 }));
    canary.record('r', 'old', 10, false);
    canary.record('r', 'new', 10, false);
    now += 2000;
    expect(() => canary.tick()).not.toThrow();
    expect(() => canary.tick()).not.toThrow();
    expect(failures).toEqual(['the weight could not be set to 50, retrying: invalid JSON at line 1']);
    expect((canary.snapshot().r as { step: number }).step).toBe(0);
    failing = false;
    canary.tick();
    expect(weights).toEqual([10, 50]);
    expect((canary.snapshot().r as { step: number }).step).toBe(1);
  });

  it('holds its step while paused, and resumes with the dwell time the step had left', () => {
    const h = harness();
    h.canary.start('r', h.config);
    h.feed('old', 20, 10);
    h.feed('new', 20, 10);
    h.advance(600);
    expect(h.canary.pause('r')).toBe(true);
    h.advance(10_000); // far past the dwell time, but paused
    h.canary.tick();
    expect(h.weights).toEqual([10]);
    expect(h.canary.status('r')).toBe('paused');
    expect((h.canary.snapshot().r as { stepElapsedMs: number }).stepElapsedMs).toBe(600);
    expect(h.canary.resume('r')).toBe(true);
    h.advance(300); // 900 ms of 1000 in the step
    h.canary.tick();
    expect(h.weights).toEqual([10]);
    h.advance(100);
    h.canary.tick();
    expect(h.weights).toEqual([10, 50]);
    const events = (h.canary.snapshot().r as { history: { event: string }[] }).history.map((e) => e.event);
    expect(events).toEqual(['started', 'paused', 'resumed', 'advanced']);
  });

  it('still rolls back a paused canary whose new side breaches: pausing never turns the safety net off', () => {
    const h = harness();
    h.canary.start('r', h.config);
    h.canary.pause('r');
    h.feed('old', 50, 10);
    h.feed('new', 50, 10, 25);
    h.canary.tick();
    expect(h.weights).toEqual([10, 0]);
    expect(h.canary.status('r')).toBe('rolled-back');
    expect(h.canary.stateCode('r')).toBe(3);
  });

  it('pauses only a running canary and resumes only a paused one', () => {
    const h = harness();
    expect(h.canary.pause('r')).toBe(false);
    h.canary.start('r', h.config);
    expect(h.canary.resume('r')).toBe(false);
    expect(h.canary.pause('r')).toBe(true);
    expect(h.canary.stateCode('r')).toBe(5);
    expect(h.canary.pause('r')).toBe(false);
    h.canary.abort('r', 'by hand');
    expect(h.canary.status('r')).toBe('aborted');
    expect(h.canary.resume('r')).toBe(false);
  });

  it('carries a pause over to another controller', () => {
    const h = harness();
    h.canary.start('r', h.config);
    h.advance(400);
    h.canary.pause('r');
    const next = new CanaryController({ setWeight: () => undefined, now: () => 5000 }, 0);
    next.importState(h.canary.exportState());
    expect(next.status('r')).toBe('paused');
    expect(next.resume('r')).toBe(true);
    expect((next.snapshot().r as { stepElapsedMs: number }).stepElapsedMs).toBe(400);
  });
});
