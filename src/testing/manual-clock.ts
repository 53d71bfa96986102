import type { Clock } from '../clock.js';
import { type Duration, parseDuration } from '../duration.js';

/** A clock that moves only when a test moves it, so retry schedules can be checked to the millisecond. */
export interface ManualClock extends Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Jumps to `time` (epoch milliseconds or a Date). */
  set(time: number | Date): void;
  /** Moves forward by `by` (milliseconds or a duration string such as `'30s'`); returns the new time. */
  advance(by: Duration): number;
}

/**
 * A clock for tests: `start` (default: the real time at creation, so signature timestamps stay within
 * a verifier's tolerance) until `set` or `advance` moves it. It never moves backwards by `advance`.
 */
export function manualClock(start: number | Date = Date.now()): ManualClock {
  let current = toEpoch(start, 'start');
  return {
    now: () => current,
    set(time) {
      current = toEpoch(time, 'time');
    },
    advance(by) {
      const ms = parseDuration(by);
      if (ms === undefined) throw new TypeError(`manualClock.advance: not a duration: ${String(by)}`);
      current = toEpoch(current + ms, 'the advanced time');
      return current;
    },
  };
}

const MAX_DATE_MS = 8.64e15;

function toEpoch(value: number | Date, name: string): number {
  const ms = value instanceof Date ? value.getTime() : value;
  // ±8.64e15 ms is the range a Date can hold; beyond it every timestamp made from the clock is invalid.
  if (typeof ms !== 'number' || !Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) {
    throw new TypeError(`manualClock: ${name} must be an epoch-milliseconds number within the Date range, or a valid Date`);
  }
  return ms;
}
