import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isoString } from '../../src/iso-time.js';
import { generateSecret } from '../../src/secrets.js';

// The wire answers and the delivery payload carry `createdAt` as `Date#toISOString` writes it;
// isoString is a faster route to the very same string.
describe('isoString', () => {
  it('writes exactly what toISOString writes, for any instant', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
        const date = new Date(ms);
        expect(isoString(date)).toBe(date.toISOString());
      }),
      { numRuns: 20_000 },
    );
  });

  it('gets the calendar edges right', () => {
    const edges = [
      '1970-01-01T00:00:00.000Z',
      '1970-12-31T23:59:59.999Z',
      '2000-02-29T12:00:00.001Z',
      '2000-03-01T00:00:00.010Z',
      '2024-02-29T23:59:59.100Z',
      '2100-02-28T23:59:59.999Z',
      '2100-03-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
    ];
    for (const edge of edges) expect(isoString(new Date(edge))).toBe(edge);
    // Outside the four-digit years toISOString's extended form is used as it is.
    expect(isoString(new Date('1969-12-31T23:59:59.999Z'))).toBe('1969-12-31T23:59:59.999Z');
    expect(isoString(new Date(Date.UTC(10000, 0, 1)))).toBe('+010000-01-01T00:00:00.000Z');
  });

  it('throws on an invalid date as toISOString does', () => {
    expect(() => isoString(new Date(Number.NaN))).toThrow(RangeError);
  });
});

// Seed: "The endpoint's signing secret is returned … (base64-encoded)", 32 random bytes.
describe('generateSecret', () => {
  it('hands out distinct 32-byte secrets across many refills of its pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const secret = generateSecret('whsec_');
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
      seen.add(secret);
    }
    expect(seen.size).toBe(1000);
  });

  it('draws bytes that look uniformly random (no zeroed or repeated blocks)', () => {
    const counts = new Array<number>(256).fill(0);
    const n = 2000;
    for (let i = 0; i < n; i++) for (const byte of Buffer.from(generateSecret(''), 'base64')) counts[byte] = (counts[byte] as number) + 1;
    // 64,000 bytes over 256 values: 250 expected each; zeroed pool bytes would pile up on 0.
    expect(Math.max(...counts)).toBeLessThan(400);
    expect(Math.min(...counts)).toBeGreaterThan(130);
  });
});
