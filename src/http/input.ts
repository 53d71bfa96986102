import { type ErrorDetails, WebhookError, isWebhookError, validationFailed } from '../errors.js';
import { setDetail } from '../validation/issues.js';
import { isPlainObject } from '../validation/text.js';
import type { Field, Wire } from './wire-format.js';

/** The body as an object, or VALIDATION_FAILED `details.body` (also for a missing body). */
export function requireObject(body: unknown): Record<string, unknown> {
  if (!isPlainObject(body)) throw validationFailed({ body: 'must be a JSON object' });
  return body;
}

/** Routes that take no input accept no body, an empty one, or `{}`; anything else is named. */
export function requireNoInput(body: unknown): void {
  if (body === undefined) return;
  const { unknown } = readFields(body, [], null);
  if (unknown) throw validationFailed(unknown);
}

/**
 * Picks the allowed fields of a request object, renamed to the core's names. A key that is not
 * an allowed field in the caller's casing (including the other casing's spelling) is reported as
 * `unknown field`, keyed as the caller sent it; `unknown` is null when there is none.
 */
function readFields(body: unknown, allowed: readonly Field[], wire: Wire | null): { input: Record<string, unknown>; unknown: ErrorDetails | null } {
  const object = requireObject(body);
  const input: Record<string, unknown> = {};
  // Made only for a body with an unknown field: nearly every request has none.
  let unknown: ErrorDetails | null = null;
  for (const key of Object.keys(object)) {
    const field = wire?.fieldOf(key);
    if (field !== undefined && allowed.includes(field)) input[field] = object[key];
    else setDetail((unknown ??= {}), key, 'unknown field');
  }
  return { input, unknown };
}

/** Re-keys a core VALIDATION_FAILED error's `details` by the caller's field names. */
export function inWireTerms(error: unknown, wire: Wire): unknown {
  if (!isWebhookError(error) || !error.details || wire.format === 'camelCase') return error;
  const details: ErrorDetails = {};
  for (const [field, reason] of Object.entries(error.details)) setDetail(details, wire.wireName(field), reason);
  return new WebhookError(error.code, error.message, { details, cause: error.cause });
}

/** Runs a service call and re-keys its validation details the way the caller spells fields. */
export function call<T>(wire: Wire, fn: () => Promise<T>): Promise<T> {
  const rename = (error: unknown): never => {
    throw inWireTerms(error, wire);
  };
  // Not an async function: one promise fewer on every write. A synchronous throw is renamed too.
  try {
    return fn().catch(rename);
  } catch (error) {
    return rename(error);
  }
}

/**
 * Reads an object body's allowed fields. When the caller also sent unknown fields, nothing is
 * written: `validate` (a pure check of the known fields) runs only to report every problem at once.
 */
export function readBodyFields(body: unknown, allowed: readonly Field[], wire: Wire, validate: (input: Record<string, unknown>) => void): Record<string, unknown> {
  const { input, unknown } = readFields(body, allowed, wire);
  if (unknown === null) return input;
  let other: ErrorDetails = {};
  try {
    validate(input);
  } catch (error) {
    const renamed = inWireTerms(error, wire);
    if (isWebhookError(renamed) && renamed.details) other = renamed.details;
    else throw error;
  }
  throw validationFailed({ ...other, ...unknown });
}

/** What an absent query string reads as: one shared object, never written to. */
const NO_QUERY: Readonly<Partial<Record<Field, string>>> = Object.freeze({});

/**
 * Reads the query string: each parameter at most once, and only those the route knows.
 * Returns the values keyed by core field name.
 */
export function readQuery(query: string, allowed: readonly Field[], wire: Wire): Readonly<Partial<Record<Field, string>>> {
  if (query === '') return NO_QUERY;
  const out: Partial<Record<Field, string>> = {};
  const details: ErrorDetails = {};
  const allowedByWireName = new Map(allowed.map((field) => [wire.names[field], field]));
  for (const [name, value] of new URLSearchParams(query)) {
    const field = allowedByWireName.get(name);
    if (field === undefined) setDetail(details, name, 'unknown query parameter');
    else if (out[field] !== undefined) setDetail(details, name, 'must be given once');
    else out[field] = value;
  }
  if (Object.keys(details).length) throw validationFailed(details);
  return out;
}
