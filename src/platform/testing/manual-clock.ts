// A clock a test moves by hand: "fifteen minutes later" is `advance(15 * 60_000)`, not a wait.
import type { Clock } from '../modules/clock.ts';

export interface ManualClock extends Clock {
  advance(ms: number): void;
  set(at: Date): void;
}

export function manualClock(start: Date = new Date()): ManualClock {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance(ms) {
      now += ms;
    },
    set(at) {
      now = at.getTime();
    },
  };
}
