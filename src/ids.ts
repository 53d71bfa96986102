import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

/**
 * Prefixed ULIDs. ULIDs sort by creation time, so "newest first" pagination is an
 * ordering by id, and a cursor is simply the last id seen. The monotonic factory keeps
 * ids from one process strictly increasing even within the same millisecond.
 */
const randomPool = Buffer.alloc(4096);
let randomOffset = randomPool.length;

/**
 * ulid's default PRNG makes one `getRandomValues` call per character (16 per id); drawing the same
 * cryptographic bytes from a refilled pool gives identical randomness at a fraction of the cost.
 */
function pooledRandom(): number {
  if (randomOffset >= randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  return (randomPool[randomOffset++] as number) / 256;
}

const nextUlid = monotonicFactory(pooledRandom);

export const ID_PREFIX = {
  endpoint: 'wh_',
  event: 'evt_',
  delivery: 'dlv_',
  attempt: 'att_',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

export function newId(kind: IdKind, now: number = Date.now()): string {
  return ID_PREFIX[kind] + nextUlid(now);
}

/** A bare ULID, used for request ids and lease tokens. */
export function newUlid(now: number = Date.now()): string {
  return nextUlid(now);
}

const ULID_BODY = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** True when `value` looks like an id of `kind`; lets lookups of garbage answer NOT_FOUND without a query. */
export function isId(kind: IdKind, value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const prefix = ID_PREFIX[kind];
  return value.startsWith(prefix) && ULID_BODY.test(value.slice(prefix.length));
}
