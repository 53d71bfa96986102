import { afterAttempt, type AttemptTransition } from './transitions.js';

export interface RetryConfig {
  /** Delay before retry n (n = 1 … length), in milliseconds. */
  scheduleMs: readonly number[];
  /** 0..1: each scheduled delay is spread by up to this fraction either way. */
  jitter: number;
  /** Longest `Retry-After` honoured; longer ones are cut to this. Shorter than the schedule: ignored. */
  maxRetryAfterMs: number;
}

export interface AttemptResult {
  statusCode: number | null;
  /** The raw `Retry-After` header of the answer, if any. */
  retryAfter: string | null;
}

/**
 * What happens after attempt `attemptNumber` (1-based) ended with `result` at `nowMs`: the
 * delivery state machine decides what (`afterAttempt`); this policy says when the next retry is
 * due. After attempt n, when n ≤ schedule.length, it is due at now + schedule[n-1] (or later, when
 * a 429/503 asks for more with `Retry-After`, capped at `maxRetryAfterMs`; never sooner than the
 * schedule); otherwise there is no retry left.
 */
export function decideNext(attemptNumber: number, result: AttemptResult, nowMs: number, config: RetryConfig, random: () => number = Math.random): AttemptTransition {
  return afterAttempt(result.statusCode, () => {
    if (attemptNumber > config.scheduleMs.length) return null;
    const base = config.scheduleMs[attemptNumber - 1] as number;
    const scheduled = config.jitter > 0 ? Math.max(0, Math.round(base * (1 + config.jitter * (2 * random() - 1)))) : base;
    // Retry-After only postpones: a receiver answering `Retry-After: 0` (or a past date) to every
    // attempt would otherwise use up the whole retry budget within milliseconds.
    const delay = Math.max(scheduled, retryAfterDelay(result.statusCode, result.retryAfter, nowMs, config.maxRetryAfterMs) ?? 0);
    return new Date(nowMs + delay);
  });
}

/** The delay a 429/503 asks for, in ms (capped), or null when it asks for none we can read. */
export function retryAfterDelay(status: number | null, header: string | null, nowMs: number, maxMs: number): number | null {
  if ((status !== 429 && status !== 503) || header === null) return null;
  const ms = parseRetryAfter(header, nowMs);
  return ms === null ? null : Math.min(ms, maxMs);
}

/** `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string, nowMs: number): number | null {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Only the RFC's date forms contain letters; a bare number with a sign or decimals is invalid.
  if (!/[A-Za-z]/.test(trimmed)) return null;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}
