import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

/**
 * Prefixed ULIDs. ULIDs sort by creation time, so "newest first" pagination is an
 * ordering by id, and a cursor is simply the last id seen. Ids from one process are strictly
 * increasing, also within one millisecond and when the clock steps back: the `ulid` package's
 * monotonic factory keeps the last time and adds one to the last random part in both cases.
 */

/**
 * Random fractions for the factory, one CSPRNG byte each (byte / 256, so each of the 32 digits is
 * equally likely), drawn from a pool filled 4096 bytes at a time: `ulid`'s default asks
 * `crypto.getRandomValues` once per digit, 16 calls per id.
 */
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

function randomFraction(): number {
  if (poolOffset === POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  return (pool[poolOffset++] as number) / 256;
}

const nextUlid = monotonicFactory(randomFraction);
const MAX_TIME = 2 ** 48 - 1;

export const ID_PREFIX = {
  endpoint: 'wh_',
  event: 'evt_',
  delivery: 'dlv_',
  attempt: 'att_',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

export function newId(kind: IdKind, now: number = Date.now()): string {
  return ID_PREFIX[kind] + newUlid(now);
}

/**
 * A bare ULID, used for request ids and lease tokens. `now` must be a whole millisecond from 1 to
 * 2^48 - 1: the factory reads 0 and NaN as "use the clock" and would give a negative time the last
 * one's, so those are refused here rather than turned into a wrong timestamp.
 */
export function newUlid(now: number = Date.now()): string {
  if (!(Number.isInteger(now) && now >= 1 && now <= MAX_TIME)) throw new RangeError(`ULID time must be an integer from 1 to ${MAX_TIME}, got ${now}`);
  return nextUlid(now);
}

const ULID_BODY = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** True when `value` looks like an id of `kind`; lets lookups of garbage answer NOT_FOUND without a query. */
export function isId(kind: IdKind, value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const prefix = ID_PREFIX[kind];
  return value.startsWith(prefix) && ULID_BODY.test(value.slice(prefix.length));
}
