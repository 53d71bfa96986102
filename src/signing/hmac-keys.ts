import { type KeyObject, createSecretKey } from 'node:crypto';
import { InvalidOptionsError } from '../errors.js';
import { standardWebhooksKey } from './secret-format.js';

/**
 * Turns secret strings into HMAC key objects once and keeps them in a bounded, least-recently-used-ish
 * cache, so a long-running sender with thousands of endpoints neither re-derives a key per request
 * nor grows without limit. Errors it throws never contain the secret.
 *
 * Two generations (as quick-lru does) instead of a strict LRU: a hit in the young map costs one lookup
 * and no reordering; when the young map fills, it becomes the old one and the previous old map is
 * dropped. Secrets used since the last swap survive it, so at most `capacity` keys are held.
 */
export class HmacKeyCache {
  #young = new Map<string, KeyObject>();
  #old = new Map<string, KeyObject>();
  readonly #generationSize: number;
  readonly #toKeyBytes: (secret: string) => Buffer;

  constructor(capacity: number, toKeyBytes: (secret: string) => Buffer) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new RangeError('HmacKeyCache capacity must be an integer of at least 2');
    this.#generationSize = Math.floor(capacity / 2);
    this.#toKeyBytes = toKeyBytes;
  }

  /** The key for `secret`, derived on first use; throws `InvalidOptionsError` for a secret that yields no key bytes. */
  get(secret: string): KeyObject {
    const young = this.#young.get(secret);
    if (young !== undefined) return young;
    const old = this.#old.get(secret);
    if (old !== undefined) {
      this.#old.delete(secret);
      this.#remember(secret, old);
      return old;
    }
    const key = createSecretKey(keyBytesOf(secret, this.#toKeyBytes));
    this.#remember(secret, key);
    return key;
  }

  /** Keys held right now; never more than the capacity. */
  get size(): number {
    return this.#young.size + this.#old.size;
  }

  clear(): void {
    this.#young.clear();
    this.#old.clear();
  }

  #remember(secret: string, key: KeyObject): void {
    if (this.#young.size >= this.#generationSize) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(secret, key);
  }
}

/** The secret's key bytes; a secret without any is a misconfiguration, reported without the secret itself. */
function keyBytesOf(secret: string, toKeyBytes: (secret: string) => Buffer): Buffer {
  if (typeof secret !== 'string' || secret.length === 0) throw invalidSecret('must be a non-empty string');
  const bytes = toKeyBytes(secret);
  if (bytes.length === 0) {
    throw invalidSecret('must yield at least one byte of key material');
  }
  return bytes;
}

function invalidSecret(message: string): InvalidOptionsError {
  return new InvalidOptionsError([{ option: 'secret', message }]);
}

/** Enough for every active endpoint of a large host; each entry is a few hundred bytes. */
export const KEY_CACHE_CAPACITY = 4096;


/** The seed's hex scheme keys the HMAC with the secret string itself, prefix included (`createHmac("sha256", secret)`). */
export function secretStringKeyBytes(secret: string): Buffer {
  return Buffer.from(secret, 'utf8');
}

export const standardWebhooksKeys = new HmacKeyCache(KEY_CACHE_CAPACITY, standardWebhooksKey);
export const secretStringKeys = new HmacKeyCache(KEY_CACHE_CAPACITY, secretStringKeyBytes);
