import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isWebhookError } from '../../src/errors.js';
import { parseTimestamp } from '../../src/http/input.js';

const refused = (value: unknown): boolean => {
  try {
    parseTimestamp(value, 'since');
    return false;
  } catch (error) {
    return isWebhookError(error) && error.code === 'VALIDATION_FAILED' && Object.keys(error.details ?? {}).join() === 'since';
  }
};

describe('parseTimestamp', () => {
  it('takes dates and zoned timestamps that exist, leap days included', () => {
    expect(parseTimestamp('2028-02-29', 'since').toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(parseTimestamp('2000-02-29T12:00:00Z', 'since').toISOString()).toBe('2000-02-29T12:00:00.000Z');
    expect(parseTimestamp('2026-12-31T23:59:59.999+01:00', 'since').toISOString()).toBe('2026-12-31T22:59:59.999Z');
  });

  it('refuses days that do not exist rather than rolling them into the next month', () => {
    for (const value of ['2026-02-29', '2026-02-30', '1900-02-29T00:00:00Z', '2026-04-31', '2026-06-31T10:00:00Z', '2026-13-01', '2026-00-10', '2026-01-00']) {
      expect(refused(value), value).toBe(true);
    }
  });

  it('agrees with the calendar on every day of every month', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }), (year, month, day) => {
        const text = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
        const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
        const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] as number;
        expect(refused(text)).toBe(day > days);
      }),
      { numRuns: 2000 },
    );
  });
});
