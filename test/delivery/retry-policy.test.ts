import { describe, expect, it } from 'vitest';
import { decideNext, parseRetryAfter } from '../../src/delivery/retry-policy.js';

const config = { scheduleMs: [1000, 5000, 30_000, 120_000, 600_000], jitter: 0, maxRetryAfterMs: 3_600_000 };
const NOW = Date.parse('2026-03-15T10:30:00Z');
const fail = (statusCode: number | null, retryAfter: string | null = null) => ({ statusCode, retryAfter });

describe('decideNext', () => {
  it('2xx succeeds, whatever the attempt number', () => {
    for (const status of [200, 201, 204, 299]) expect(decideNext(6, fail(status), NOW, config)).toEqual({ next: { status: 'succeeded' }, pause: null });
  });

  it('seed: "retried up to 5 times with exponential backoff: 1s, 5s, 30s, 2min, 10min"', () => {
    const delays = [1, 2, 3, 4, 5].map((n) => {
      const d = decideNext(n, fail(500), NOW, config);
      expect(d.pause).toBeNull();
      return d.next.status === 'pending' ? d.next.nextAttemptAt.getTime() - NOW : null;
    });
    expect(delays).toEqual([1000, 5000, 30_000, 120_000, 600_000]);
  });

  it('seed: "After all retries fail, the webhook is paused" — attempt 6 fails the delivery', () => {
    expect(decideNext(6, fail(500), NOW, config)).toEqual({ next: { status: 'failed' }, pause: 'failing' });
    expect(decideNext(6, fail(null), NOW, config)).toEqual({ next: { status: 'failed' }, pause: 'failing' });
  });

  it('3xx, 4xx and network errors are failures like 5xx', () => {
    for (const status of [301, 400, 404, 499, null]) expect(decideNext(1, fail(status), NOW, config).next).toEqual({ status: 'pending', nextAttemptAt: new Date(NOW + 1000) });
  });

  it('410 Gone pauses at once and holds the delivery, even on the first attempt', () => {
    expect(decideNext(1, fail(410), NOW, config)).toEqual({ next: { status: 'held' }, pause: 'gone' });
  });

  it('Retry-After on 429 and 503 postpones past the scheduled delay, capped at maxRetryAfter', () => {
    expect(decideNext(1, fail(429, '120'), NOW, config).next).toEqual({ status: 'pending', nextAttemptAt: new Date(NOW + 120_000) });
    expect(decideNext(1, fail(503, '999999'), NOW, config).next).toEqual({ status: 'pending', nextAttemptAt: new Date(NOW + 3_600_000) });
    const date = new Date(NOW + 45_000).toUTCString();
    expect(decideNext(1, fail(503, date), NOW, config).next).toEqual({ status: 'pending', nextAttemptAt: new Date(NOW + 45_000) });
  });

  it('Retry-After never brings a retry forward: 0, a past date or a short wait keeps the schedule', () => {
    expect(decideNext(3, fail(503, '0'), NOW, config).next).toEqual({ status: 'pending', nextAttemptAt: new Date(NOW + 30_000) });
    expect(decideNext(3, fail(429, new Date(NOW - 60_000).toUTCString()), NOW, config).next).toEqual({ status: 'pending', nextAttemptAt: new Date(NOW + 30_000) });
    expect(decideNext(5, fail(429, '60'), NOW, config).next).toEqual({ status: 'pending', nextAttemptAt: new Date(NOW + 600_000) });
    // A cap below the schedule cannot shorten it either.
    expect(decideNext(5, fail(503, '86400'), NOW, { ...config, maxRetryAfterMs: 10_000 }).next).toEqual({ status: 'pending', nextAttemptAt: new Date(NOW + 600_000) });
    // With jitter, Retry-After is compared with the jittered delay.
    const jittered = { ...config, jitter: 0.5 };
    expect(decideNext(2, fail(429, '1'), NOW, jittered, () => 0).next).toEqual({ status: 'pending', nextAttemptAt: new Date(NOW + 2500) });
    expect(decideNext(2, fail(429, '3'), NOW, jittered, () => 0).next).toEqual({ status: 'pending', nextAttemptAt: new Date(NOW + 3000) });
  });

  it('a receiver answering Retry-After: 0 to every attempt still gets the whole schedule', () => {
    const waits = [1, 2, 3, 4, 5].map((n) => {
      const d = decideNext(n, fail(429, '0'), NOW, config).next;
      return d.status === 'pending' ? d.nextAttemptAt.getTime() - NOW : null;
    });
    expect(waits).toEqual(config.scheduleMs);
  });

  it('Retry-After is ignored on other statuses and when unreadable', () => {
    expect(decideNext(1, fail(500, '120'), NOW, config).next).toEqual({ status: 'pending', nextAttemptAt: new Date(NOW + 1000) });
    expect(decideNext(1, fail(429, 'soon'), NOW, config).next).toEqual({ status: 'pending', nextAttemptAt: new Date(NOW + 1000) });
  });

  it('Retry-After does not extend the retry budget', () => {
    expect(decideNext(6, fail(429, '1'), NOW, config)).toEqual({ next: { status: 'failed' }, pause: 'failing' });
  });

  it('an empty schedule means one attempt only', () => {
    expect(decideNext(1, fail(500), NOW, { ...config, scheduleMs: [] })).toEqual({ next: { status: 'failed' }, pause: 'failing' });
  });

  it('jitter spreads delays within ±jitter, and only when asked', () => {
    const jittered = { ...config, jitter: 0.5 };
    const at = (r: number) => {
      const d = decideNext(2, fail(500), NOW, jittered, () => r).next;
      return d.status === 'pending' ? d.nextAttemptAt.getTime() - NOW : null;
    };
    expect([at(0), at(0.5), at(0.999999)]).toEqual([2500, 5000, 7500]);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, rejects the rest', () => {
    expect(parseRetryAfter('5', NOW)).toBe(5000);
    expect(parseRetryAfter(' 60 ', NOW)).toBe(60_000);
    expect(parseRetryAfter(new Date(NOW + 10_000).toUTCString(), NOW)).toBe(10_000);
    expect(parseRetryAfter(new Date(NOW - 10_000).toUTCString(), NOW)).toBe(0);
    for (const bad of ['-5', '1.5', '', 'tomorrow-ish', '5s']) expect(parseRetryAfter(bad, NOW)).toBeNull();
  });
});
