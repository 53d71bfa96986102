import type { z } from 'zod';
import { type ErrorDetails, validationFailed } from '../errors.js';

/**
 * Records a problem under the caller's own key. `defineProperty`, because a plain assignment of
 * a `__proto__` key would set the prototype instead and lose the problem.
 */
export function setDetail(details: ErrorDetails, key: string, reason: string): void {
  Object.defineProperty(details, key.slice(0, 100), { value: reason, enumerable: true, writable: true, configurable: true });
}

/** Unknown fields reported by name; beyond this many, one more entry (`body`) says how many were left out. */
const MAX_REPORTED_UNKNOWN_FIELDS = 20;

export interface IssueWording {
  /** The detail key of a problem with the input as a whole (`body`, `query`). */
  root: string;
  /** The reason given for each unrecognized key. */
  unknown: string;
}

const BODY_WORDING: IssueWording = { root: 'body', unknown: 'unknown field' };

/**
 * zod issues as the seed's `details`: one reason per top-level field (the first found), every
 * unknown key by name as the caller spelled it.
 */
export function detailsFromIssues(issues: readonly z.core.$ZodIssue[], wording: IssueWording = BODY_WORDING): ErrorDetails {
  const details: ErrorDetails = {};
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys' && issue.path.length === 0) {
      if (issue.keys.length > MAX_REPORTED_UNKNOWN_FIELDS) {
        setDetail(details, wording.root, `has ${issue.keys.length} unknown fields; the first ${MAX_REPORTED_UNKNOWN_FIELDS} are listed`);
      }
      for (const key of issue.keys.slice(0, MAX_REPORTED_UNKNOWN_FIELDS)) setDetail(details, key, wording.unknown);
      continue;
    }
    const field = issue.path.length === 0 ? wording.root : String(issue.path[0]);
    if (!Object.hasOwn(details, field.slice(0, 100))) setDetail(details, field, issue.message);
  }
  return details;
}

/** The schema's output, or VALIDATION_FAILED with every problem keyed by field. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, wording?: IssueWording): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw validationFailed(detailsFromIssues(result.error.issues, wording));
}

/** `build(key)`, made once per key object: building a zod schema costs far more than running it. */
export function oncePer<K extends object, T>(build: (key: K) => T): (key: K) => T {
  const made = new WeakMap<K, T>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) made.set(key, (value = build(key)));
    return value;
  };
}
