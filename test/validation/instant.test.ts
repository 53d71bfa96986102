import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInstant } from '../../src/validation/instant.js';
import { ORG, endpointService } from '../support/endpoint-service.js';
import { rejectsValidation } from '../support/webhook-error-assertions.js';

const refused = (value: unknown): boolean => parseInstant(value) === undefined;

describe('parseInstant', () => {
  it('takes dates and zoned timestamps that exist, leap days included', () => {
    expect(parseInstant('2028-02-29')?.toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(parseInstant('2000-02-29T12:00:00Z')?.toISOString()).toBe('2000-02-29T12:00:00.000Z');
    expect(parseInstant('2026-12-31T23:59:59.999+01:00')?.toISOString()).toBe('2026-12-31T22:59:59.999Z');
    const date = new Date('2026-04-26T12:00:00Z');
    expect(parseInstant(date)).toBe(date);
  });

  it('refuses days that do not exist rather than rolling them into the next month', () => {
    for (const value of ['2026-02-29', '2026-02-30', '1900-02-29T00:00:00Z', '2026-04-31', '2026-06-31T10:00:00Z', '2026-13-01', '2026-00-10', '2026-01-00']) {
      expect(refused(value), value).toBe(true);
    }
  });

  it('refuses timestamps without a zone, other notations and non-dates', () => {
    for (const value of ['2026-04-26T12:00:00', '2026-04-26 12:00:00Z', '2026-04-26Tjunk', 'yesterday', '', 1714000000, null, new Date(Number.NaN), {}]) {
      expect(refused(value), String(value)).toBe(true);
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

// The code API and REST read instants through the one parser: what REST refuses, code refuses too
// (test/http/deliveries.test.ts holds the REST side for the same values).
describe('the code API reads instants as REST does', () => {
  it.each(['2026-02-30', '2026-04-31T00:00:00Z', '2026-04-26T12:00:00', 'yesterday'])('listDeliveries and replay refuse since=%s', async (since) => {
    const { service } = endpointService();
    const { endpoint } = await service.create(ORG, { url: 'https://hooks.example.com/a', events: ['wallet.balance_low'] });
    await rejectsValidation(service.listDeliveries(ORG, { since }), 'since');
    await rejectsValidation(service.listDeliveries(ORG, { until: since }), 'until');
    await rejectsValidation(service.replay(ORG, endpoint.id, { since }), 'since');
  });

  it('takes the instants REST takes', async () => {
    const { service } = endpointService();
    const { endpoint } = await service.create(ORG, { url: 'https://hooks.example.com/a', events: ['wallet.balance_low'] });
    for (const since of ['2026-02-28', '2026-04-26T12:00:00Z', '2026-04-26T12:00:00.5+02:00', new Date('2026-01-01T00:00:00Z')]) {
      expect((await service.listDeliveries(ORG, { since })).data).toEqual([]);
      expect(await service.replay(ORG, endpoint.id, { since })).toEqual({ replayed: 0 });
    }
  });
});
