import { describe, expect, it } from 'vitest';
import type { Attempt, AttemptErrorKind } from '../../src/index.js';
import type { ChaosAnswer, ChaosRequest } from './chaos-receiver.js';
import { matchAttempts } from './chaos-scenario.js';

const T0 = Date.UTC(2026, 3, 1);

function attempt(n: number, at: number, outcome: number | AttemptErrorKind): Attempt {
  const status = typeof outcome === 'number' ? outcome : null;
  const errorKind: AttemptErrorKind | null = typeof outcome === 'number' ? (outcome >= 200 && outcome < 300 ? null : 'http') : outcome;
  return { id: `att_${n}`, deliveryId: 'dlv_1', orgId: 'o', endpointId: 'wh_1', attemptNumber: n, startedAt: new Date(T0 + at), durationMs: 5, statusCode: status, errorKind, errorMessage: null, responseExcerpt: null };
}
const request = (at: number, answer: ChaosAnswer): ChaosRequest => ({ key: 'k', answer, at: T0 + at });

/** The checker the chaos test relies on must itself reject logs that do not match. */
describe('chaos log matching', () => {
  it('matches attempts with the answers the receiver gave, in any order for timeouts', () => {
    expect(matchAttempts([attempt(1, 0, 500), attempt(2, 100, 200)], [request(1, 'error500'), request(101, 'ok')])).toBe(0);
    // A timed-out request read by the receiver after the next attempt's.
    expect(matchAttempts([attempt(1, 0, 'timeout'), attempt(2, 1100, 200)], [request(1101, 'ok'), request(1102, 'hang')])).toBe(0);
    // A timeout that never reached the receiver.
    expect(matchAttempts([attempt(1, 0, 'timeout'), attempt(2, 1100, 429)], [request(1101, 'retryAfter429')])).toBe(1);
  });

  it('rejects a request nobody recorded, an answer never given, and a request before its attempt', () => {
    expect(matchAttempts([attempt(1, 0, 200)], [request(1, 'error500'), request(2, 'ok')])).toBeNull();
    expect(matchAttempts([attempt(1, 0, 200)], [request(1, 'error500')])).toBeNull();
    expect(matchAttempts([attempt(1, 0, 500)], [])).toBeNull();
    expect(matchAttempts([attempt(1, 100, 200)], [request(0, 'ok')])).toBeNull();
  });
});
