import { randomFillSync } from 'node:crypto';

/**
 * Prefixed ULIDs. ULIDs sort by creation time, so "newest first" pagination is an
 * ordering by id, and a cursor is simply the last id seen. Ids from one process are strictly
 * increasing, also within one millisecond and when the clock steps back.
 */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_LENGTH = 10;
const RANDOM_LENGTH = 16;
const MAX_TIME = 2 ** 48 - 1;

/**
 * Random Crockford digits, made 4096 at a time: one CSPRNG call fills the pool, each byte keeps
 * its low 5 bits (256 is a multiple of 32, so every digit is equally likely), and an id takes a
 * slice of the decoded text instead of 16 calls and 16 string concatenations.
 */
const POOL_DIGITS = 4096;
const poolBytes = Buffer.alloc(POOL_DIGITS);
let poolText = '';
let poolOffset = POOL_DIGITS;

function randomDigits(): string {
  if (poolOffset + RANDOM_LENGTH > POOL_DIGITS) {
    randomFillSync(poolBytes);
    for (let i = 0; i < POOL_DIGITS; i++) poolBytes[i] = CROCKFORD.charCodeAt((poolBytes[i] as number) & 31);
    poolText = poolBytes.toString('latin1');
    poolOffset = 0;
  }
  const digits = poolText.slice(poolOffset, poolOffset + RANDOM_LENGTH);
  poolOffset += RANDOM_LENGTH;
  return digits;
}

function encodeTime(ms: number): string {
  let text = '';
  for (let i = 0, t = ms; i < TIME_LENGTH; i++, t = Math.floor(t / 32)) text = CROCKFORD[t % 32] + text;
  return text;
}

/** Each Crockford digit's successor by character code (`'9'` → `'A'`, `'H'` → `'J'`); `Z` has none. */
const NEXT_DIGIT: readonly string[] = (() => {
  const next: string[] = [];
  for (let i = 0; i < CROCKFORD.length - 1; i++) next[CROCKFORD.charCodeAt(i)] = CROCKFORD[i + 1] as string;
  return next;
})();

/** The random digits plus one, in base 32; null when all are `Z` (2^80 ids in one millisecond). Exported for tests. */
export function incrementDigits(digits: string): string | null {
  let i = digits.length - 1;
  while (i >= 0 && digits.charCodeAt(i) === 90 /* 'Z' */) i--;
  if (i < 0) return null;
  const next = NEXT_DIGIT[digits.charCodeAt(i)] as string;
  return i === digits.length - 1 ? digits.slice(0, i) + next : digits.slice(0, i) + next + '0'.repeat(digits.length - 1 - i);
}

let lastTime = -1;
let lastTimeText = '';
let lastRandom = '';

/**
 * The next ULID. A later millisecond starts from fresh random digits; the same or an earlier one
 * (a burst, or the clock stepping back) keeps the last time and adds one to the last digits, as
 * the ULID spec's monotonic mode does, so every id sorts after the one before it.
 */
function nextUlid(now: number): string {
  if (!(Number.isInteger(now) && now >= 0 && now <= MAX_TIME)) throw new RangeError(`ULID time must be an integer from 0 to ${MAX_TIME}, got ${now}`);
  if (now > lastTime) {
    lastTimeText = encodeTime(now);
    lastTime = now;
    lastRandom = randomDigits();
  } else {
    const next = incrementDigits(lastRandom);
    if (next === null) throw new RangeError('ULID random component overflowed within one millisecond');
    lastRandom = next;
  }
  return lastTimeText + lastRandom;
}

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
