import { z } from 'zod';

export const INSTANT_PROBLEM = 'must be an ISO-8601 date or timestamp with a time zone, e.g. 2026-04-26T12:00:00Z';

/** `2026-04-26` (midnight UTC) or `2026-04-26T12:00[:00[.000]]` with `Z` or an offset. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/i;

/**
 * The one reading of an instant, for the code API and REST alike: a valid `Date`, or an ISO-8601
 * date or zoned timestamp naming a day that exists. A timestamp without a zone is refused (it
 * would mean the server's local time), and so is `2026-02-30`, which `Date.parse` rolls over to March.
 */
export function parseInstant(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value !== 'string' || !ISO_INSTANT.test(value) || !isCalendarDate(value)) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** True when the leading `YYYY-MM-DD` names a day that exists. */
function isCalendarDate(value: string): boolean {
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  const date = new Date(0);
  // Not Date.UTC, which reads years 0–99 as 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** An instant field: a `Date` or ISO-8601 text in, a `Date` out. `required` words the problem of an absent value. */
export function instantSchema(required = false) {
  return z.unknown().transform((value, ctx): Date => {
    const date = parseInstant(value);
    if (date === undefined) ctx.addIssue({ code: 'custom', message: required && value === undefined ? 'is required' : INSTANT_PROBLEM });
    return date as Date;
  });
}

/** `until` must come after `since` when both are given. */
export function checkTimeRange(range: { since?: Date | undefined; until?: Date | undefined }, ctx: z.RefinementCtx): void {
  if (range.since && range.until && range.since.getTime() >= range.until.getTime()) {
    ctx.addIssue({ code: 'custom', path: ['until'], message: 'must be after since' });
  }
}
