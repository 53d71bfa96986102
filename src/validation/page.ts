import { z } from 'zod';
import { type IdKind, isId } from '../ids.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

const LIMIT_PROBLEM = `must be an integer from 1 to ${MAX_PAGE_SIZE}`;

/** `limit` as the code API takes it: a number. */
export const limitSchema = z.number(LIMIT_PROBLEM).int(LIMIT_PROBLEM).min(1, LIMIT_PROBLEM).max(MAX_PAGE_SIZE, LIMIT_PROBLEM);

/** `limit` as a query string carries it: digits, then the same range. */
export const queryLimitSchema = z
  .string(LIMIT_PROBLEM)
  .regex(/^\d{1,4}$/, LIMIT_PROBLEM)
  .transform(Number)
  .pipe(limitSchema);

/** The cursor is the id of the last row of the previous page. */
export const cursorSchema = (kind: IdKind) =>
  z
    .string('is not a cursor this API returned')
    .refine((value) => isId(kind, value), 'is not a cursor this API returned')
    .nullish()
    .transform((value) => value ?? undefined);
