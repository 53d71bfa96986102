import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/errors.js';
import { HmacKeyCache } from '../../src/signing/hmac-keys.js';
import { standardWebhooksKey as standardWebhooksKeyBytes } from '../../src/signing/secret-format.js';
import { newSecret, thrown } from './fixtures.js';

describe('HmacKeyCache', () => {
  it('derives a key once per secret and hands back the same key object', () => {
    let derivations = 0;
    const cache = new HmacKeyCache(8, (s) => {
      derivations += 1;
      return standardWebhooksKeyBytes(s);
    });
    const secret = newSecret();
    const first = cache.get(secret);
    expect(cache.get(secret)).toBe(first);
    expect(derivations).toBe(1);
    expect(first.export()).toEqual(Buffer.from(secret.slice('whsec_'.length), 'base64'));
  });

  it('never holds more than its capacity and drops secrets not used since the last generation swap', () => {
    const derived: string[] = [];
    const cache = new HmacKeyCache(4, (s) => {
      derived.push(s);
      return standardWebhooksKeyBytes(s);
    });
    const [a, b, c, d] = [newSecret(), newSecret(), newSecret(), newSecret()] as [string, string, string, string];
    const keyA = cache.get(a);
    cache.get(b);
    cache.get(c);
    expect(cache.get(a)).toBe(keyA); // used again: carried into the young generation
    cache.get(d);
    expect(cache.get(a)).toBe(keyA);
    expect(derived).toEqual([a, b, c, d]);
    cache.get(b); // b was in the generation that the swap dropped
    expect(derived).toEqual([a, b, c, d, b]);
    for (let i = 0; i < 100; i++) {
      cache.get(newSecret());
      expect(cache.size).toBeLessThanOrEqual(4);
    }
  });

  it('rejects a secret with no key material with InvalidOptionsError, without echoing it', () => {
    const cache = new HmacKeyCache(4, standardWebhooksKeyBytes);
    for (const secret of ['', 'whsec_', 'whsec_!!!!', 'whsec_a']) {
      const error = thrown(() => cache.get(secret));
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).issues.map((i) => i.option)).toEqual(['secret']);
      if (secret.length > 'whsec_'.length) expect((error as Error).message).not.toContain(secret);
    }
    expect(cache.size).toBe(0);
  });

  // Issue 25: "Accept whsec_ or no prefix for Standard Webhooks … Decode base64 strictly."
  it('reads the key after whsec_, or the whole secret when it has no prefix; another prefix is refused', () => {
    const raw = Buffer.alloc(32, 9).toString('base64');
    for (const secret of [`whsec_${raw}`, raw]) expect(standardWebhooksKeyBytes(secret)).toEqual(Buffer.alloc(32, 9));
    expect(() => standardWebhooksKeyBytes(`ya_live_${raw}`)).toThrow(/prefix other than 'whsec_'/);
  });
});
