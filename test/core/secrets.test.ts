import { describe, expect, it } from 'vitest';
import { generateSecret } from '../../src/secrets.js';

// Seed: "The endpoint's signing secret is returned … (base64-encoded)", 32 random bytes.
describe('generateSecret', () => {
  it('hands out distinct 32-byte secrets', () => {
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
    // 64,000 bytes over 256 values: 250 expected each; zeroed bytes would pile up on 0.
    expect(Math.max(...counts)).toBeLessThan(400);
    expect(Math.min(...counts)).toBeGreaterThan(130);
  });
});
