import { z } from 'zod';

/** An object literal or null-prototype object: not an array, a class instance or a boxed value. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** An input that must be an object literal as a whole; `problem` is reported under the root key (`body`, `query`). */
export const plainObject = (problem: string) => z.custom<Record<string, unknown>>(isPlainObject, problem);

const UNSTORABLE = /\u0000|\p{Cs}/u;

/**
 * NUL cannot be stored in Postgres text, and a lone UTF-16 surrogate has no UTF-8 encoding (SQL
 * drivers store U+FFFD instead): such strings are refused rather than stored differently than answered.
 */
export function hasUnstorableText(value: string): boolean {
  return UNSTORABLE.test(value);
}

export const UNSTORABLE_TEXT_PROBLEM = 'must not contain NUL characters or unpaired UTF-16 surrogates';
