import { type KeyObject, createSecretKey } from 'node:crypto';

/**
 * Turns secret strings into HMAC key objects once and keeps them in a bounded, least-recently-used
 * map, so a long-running sender with thousands of endpoints neither re-derives a key per request
 * nor grows without limit. Errors it throws never contain the secret.
 */
export class HmacKeyCache {
  readonly #keys = new Map<string, KeyObject>();
  readonly #capacity: number;
  readonly #toKeyBytes: (secret: string) => Buffer;

  constructor(capacity: number, toKeyBytes: (secret: string) => Buffer) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('HmacKeyCache capacity must be a positive integer');
    this.#capacity = capacity;
    this.#toKeyBytes = toKeyBytes;
  }

  /** The key for `secret`, derived on first use; throws a TypeError for a secret that yields no key bytes. */
  get(secret: string): KeyObject {
    const cached = this.#keys.get(secret);
    if (cached !== undefined) {
      // Re-inserting moves the entry to the back of the Map's insertion order: that order is the LRU order.
      this.#keys.delete(secret);
      this.#keys.set(secret, cached);
      return cached;
    }
    if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('a signing secret must be a non-empty string');
    const bytes = this.#toKeyBytes(secret);
    if (bytes.length === 0) throw new TypeError('a signing secret must decode to at least one byte of key material');
    const key = createSecretKey(bytes);
    if (this.#keys.size >= this.#capacity) {
      const oldest = this.#keys.keys().next();
      if (!oldest.done) this.#keys.delete(oldest.value);
    }
    this.#keys.set(secret, key);
    return key;
  }

  get size(): number {
    return this.#keys.size;
  }

  clear(): void {
    this.#keys.clear();
  }
}

/** Enough for every active endpoint of a large host; each entry is a few hundred bytes. */
export const KEY_CACHE_CAPACITY = 4096;

/**
 * Standard Webhooks keys are the base64 after the secret's prefix. Base64 has no `_`, so everything up to
 * the last `_` is the prefix: `whsec_…` (the spec's), any other `xyz_` prefix a host configures, or none.
 */
export function standardWebhooksKeyBytes(secret: string): Buffer {
  return Buffer.from(secret.slice(secret.lastIndexOf('_') + 1), 'base64');
}

/** The seed's hex scheme keys the HMAC with the secret string itself, prefix included (`createHmac("sha256", secret)`). */
export function secretStringKeyBytes(secret: string): Buffer {
  return Buffer.from(secret, 'utf8');
}

export const standardWebhooksKeys = new HmacKeyCache(KEY_CACHE_CAPACITY, standardWebhooksKeyBytes);
export const secretStringKeys = new HmacKeyCache(KEY_CACHE_CAPACITY, secretStringKeyBytes);
