import { z } from 'zod';
import { parseDuration } from '../duration.js';

/** Milliseconds, or a duration string such as `'200ms'`, `'1s'`, `'2m'`, `'1h'`, `'30d'`; kept as given. */
export const durationSchema = z.union([z.number(), z.string()]).refine((value) => parseDuration(value) !== undefined, {
  message: "must be milliseconds or a duration like '200ms', '1s', '2m', '1h'",
});
