// Time as a module reads it. Production uses the system clock; a module test passes one it can
// move forward, so "fifteen minutes later" is a call, not a wait.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
