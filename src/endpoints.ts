import type { Catalog } from './catalog.js';
import { type ErrorDetails, validationFailed } from './errors.js';
import { checkAddress, isIpLiteral, isLocalHostName } from './net/address-policy.js';
import type { Endpoint, EndpointFilter, EndpointRecord, EndpointStatus } from './model.js';

export const MAX_URL_LENGTH = 2048;
export const MAX_DESCRIPTION_LENGTH = 200;
export const MAX_EVENTS_PER_ENDPOINT = 50;
export const MAX_FILTER_KEYS = 20;
const MAX_FILTER_KEY_LENGTH = 100;
const MAX_FILTER_STRING_LENGTH = 500;

export interface CreateEndpointInput {
  url: string;
  events: string[];
  description?: string | null;
  apiVersion?: string;
  filter?: EndpointFilter | null;
}

export interface UpdateEndpointInput {
  url?: string;
  events?: string[];
  description?: string | null;
  status?: EndpointStatus;
  filter?: EndpointFilter | null;
}

export interface UrlPolicy {
  allowHttp: boolean;
  allowPrivateNetworks: boolean;
}

const CREATE_KEYS = new Set(['url', 'events', 'description', 'apiVersion', 'filter']);
const UPDATE_KEYS = new Set(['url', 'events', 'description', 'status', 'filter']);

/** An object literal or null-prototype object: not an array, a class instance or a boxed value. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const MAY_BE_UNSTORABLE = /[\u0000\uD800-\uDFFF]/;
const UNSTORABLE = /\u0000|\p{Cs}/u;

/**
 * NUL cannot be stored in Postgres text, and a lone UTF-16 surrogate has no UTF-8 encoding (SQL
 * drivers store U+FFFD instead): such strings are refused rather than stored differently than answered.
 */
export function hasUnstorableText(value: string): boolean {
  // A NUL or any surrogate code unit at all is rare; only then is the slower /u scan for a lone one needed.
  return MAY_BE_UNSTORABLE.test(value) && UNSTORABLE.test(value);
}

export const UNSTORABLE_TEXT_PROBLEM = 'must not contain NUL characters or unpaired UTF-16 surrogates';

/**
 * An `https:` URL in its plainest form: a lowercase DNS name whose last label is letters only
 * (so never a number the URL parser would read as IPv4), no `xn--` label (whose punycode the
 * parser checks), and after it only a path, query or fragment of printable ASCII without `\\`
 * or `%`. No port, no userinfo. The WHATWG parser accepts every such string, as `https:` with
 * exactly the captured hostname, so nearly every URL a customer registers skips `new URL`,
 * which is the most expensive step of validating an endpoint. A property test holds the two
 * paths to the same verdict.
 */
const PLAIN_HTTPS_URL = /^https:\/\/((?:(?!xn--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})(?:[/?#][A-Za-z0-9\-._~!$&'()*+,;=:@/?#]*)?$/;

/** Why `value` is not an acceptable endpoint URL, or null. */
export function urlProblem(value: unknown, policy: UrlPolicy): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be an absolute URL';
  if (value.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  const plain = PLAIN_HTTPS_URL.exec(value);
  if (plain) {
    // The last label is letters, so the host is no IP literal: only the localhost names remain to refuse.
    return !policy.allowPrivateNetworks && isLocalHostName(plain[1] as string) ? 'must not point to localhost' : null;
  }
  return parsedUrlProblem(value, policy);
}

/** `urlProblem` through the WHATWG URL parser, for every URL the plain form does not cover. Exported for tests. */
export function parsedUrlProblem(value: string, policy: UrlPolicy): string | null {
  // The URL parser silently drops tabs, newlines and surrounding spaces; the stored string
  // would then differ from what was checked, so such input is refused instead.
  if (/[\s\u0000-\u001f\u007f]/.test(value)) return 'must not contain whitespace or control characters';
  if (hasUnstorableText(value)) return UNSTORABLE_TEXT_PROBLEM;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && !(policy.allowHttp && url.protocol === 'http:')) {
    return policy.allowHttp ? 'must use https or http' : 'must use https';
  }
  if (url.username || url.password) return 'must not contain credentials';
  if (!url.hostname) return 'must have a host';
  if (!policy.allowPrivateNetworks) {
    if (isLocalHostName(url.hostname)) return 'must not point to localhost';
    if (isIpLiteral(url.hostname)) {
      const verdict = checkAddress(url.hostname.replace(/^\[|\]$/g, ''));
      if (!verdict.allowed) return `must not point to a private or reserved network (${verdict.reason})`;
    }
  }
  return null;
}

function eventsProblem(value: unknown, catalog: Catalog): string | null {
  if (!Array.isArray(value)) return 'must be an array of event types';
  if (value.length < 1 || value.length > MAX_EVENTS_PER_ENDPOINT) return `must have 1 to ${MAX_EVENTS_PER_ENDPOINT} entries`;
  const unknown: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const entry: unknown = value[i];
    if (typeof entry !== 'string') return 'must contain only strings';
    // At most 50 entries: a scan of the earlier ones is cheaper than building a Set.
    if (i > 0 && value.lastIndexOf(entry, i - 1) !== -1) return `duplicate event type: ${entry.slice(0, 100)}`;
    if (!catalog.has(entry)) unknown.push(entry.slice(0, 100));
  }
  if (unknown.length) return `unknown event type${unknown.length > 1 ? 's' : ''}: ${unknown.slice(0, 5).join(', ')}`;
  return null;
}

function descriptionProblem(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') return 'must be a string';
  // Count characters as people see them (code points), not UTF-16 units; a string no longer
  // than the limit in UTF-16 units cannot have more code points.
  if (value.length > MAX_DESCRIPTION_LENGTH && [...value].length > MAX_DESCRIPTION_LENGTH) return `must be ${MAX_DESCRIPTION_LENGTH} characters or fewer`;
  if (hasUnstorableText(value)) return UNSTORABLE_TEXT_PROBLEM;
  return null;
}

function filterProblem(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (!isPlainObject(value)) return 'must be an object of key → string, number or boolean';
  const keys = Object.keys(value);
  if (keys.length === 0) return 'must have at least one key (use null for no filter)';
  if (keys.length > MAX_FILTER_KEYS) return `must have at most ${MAX_FILTER_KEYS} keys`;
  for (const key of keys) {
    if (key.length === 0 || key.length > MAX_FILTER_KEY_LENGTH) return `keys must be 1 to ${MAX_FILTER_KEY_LENGTH} characters`;
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') return `key not allowed: ${key}`;
    if (hasUnstorableText(key)) return `keys ${UNSTORABLE_TEXT_PROBLEM}`;
    const v = value[key];
    if (typeof v === 'string') {
      if (v.length > MAX_FILTER_STRING_LENGTH) return `values must be at most ${MAX_FILTER_STRING_LENGTH} characters`;
      if (hasUnstorableText(v)) return `values ${UNSTORABLE_TEXT_PROBLEM}`;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return 'numbers must be finite';
    } else if (typeof v !== 'boolean') {
      return 'values must be strings, numbers or booleans';
    }
  }
  return null;
}

/** Unknown fields reported by name; beyond this many, one more entry says how many were left out. */
const MAX_REPORTED_UNKNOWN_FIELDS = 20;

function unknownKeys(input: Record<string, unknown>, allowed: Set<string>, details: ErrorDetails): void {
  let unknown: string[] | undefined;
  for (const key of Object.keys(input)) if (!allowed.has(key)) (unknown ??= []).push(key);
  if (unknown === undefined) return;
  if (unknown.length > MAX_REPORTED_UNKNOWN_FIELDS) {
    details.body = `has ${unknown.length} unknown fields; the first ${MAX_REPORTED_UNKNOWN_FIELDS} are listed`;
  }
  for (const key of unknown.slice(0, MAX_REPORTED_UNKNOWN_FIELDS)) {
    // defineProperty, because plain assignment of `__proto__` would be swallowed and the
    // unknown field silently accepted.
    Object.defineProperty(details, key.slice(0, 100), { value: 'unknown field', enumerable: true, writable: true, configurable: true });
  }
}

/** Copies a validated filter onto a null-prototype-free plain object (no prototype keys survive). */
function copyFilter(filter: Record<string, unknown> | null | undefined): EndpointFilter | null {
  if (!filter) return null;
  const out: EndpointFilter = {};
  for (const key of Object.keys(filter)) out[key] = filter[key] as EndpointFilter[string];
  return out;
}

/** Validates a create request; throws VALIDATION_FAILED with every problem keyed by field. */
export function validateCreate(input: unknown, catalog: Catalog, policy: UrlPolicy): Required<CreateEndpointInput> {
  if (!isPlainObject(input)) throw validationFailed({ body: 'must be an object' });
  const details: ErrorDetails = {};
  unknownKeys(input, CREATE_KEYS, details);
  const url = urlProblem(input.url, policy);
  if (url) details.url = url;
  const events = eventsProblem(input.events, catalog);
  if (events) details.events = events;
  const description = descriptionProblem(input.description);
  if (description) details.description = description;
  const filter = filterProblem(input.filter);
  if (filter) details.filter = filter;
  const apiVersion = input.apiVersion === undefined ? catalog.apiVersions.current : input.apiVersion;
  if (typeof apiVersion !== 'string') details.apiVersion = 'must be a string';
  else {
    const problem = catalog.apiVersionProblem(apiVersion);
    if (problem) details.apiVersion = problem;
  }
  if (Object.keys(details).length) throw validationFailed(details);
  return {
    url: input.url as string,
    events: [...(input.events as string[])],
    description: (input.description as string | null | undefined) ?? null,
    apiVersion: apiVersion as string,
    filter: copyFilter(input.filter as Record<string, unknown> | null | undefined),
  };
}

/** Validates an update request; throws VALIDATION_FAILED with every problem keyed by field. */
export function validateUpdate(input: unknown, catalog: Catalog, policy: UrlPolicy): UpdateEndpointInput {
  if (!isPlainObject(input)) throw validationFailed({ body: 'must be an object' });
  const details: ErrorDetails = {};
  unknownKeys(input, UPDATE_KEYS, details);
  const out: UpdateEndpointInput = {};
  if (input.url !== undefined) {
    const problem = urlProblem(input.url, policy);
    if (problem) details.url = problem;
    else out.url = input.url as string;
  }
  if (input.events !== undefined) {
    const problem = eventsProblem(input.events, catalog);
    if (problem) details.events = problem;
    else out.events = [...(input.events as string[])];
  }
  if (input.description !== undefined) {
    const problem = descriptionProblem(input.description);
    if (problem) details.description = problem;
    else out.description = input.description as string | null;
  }
  if (input.status !== undefined) {
    if (input.status !== 'active' && input.status !== 'paused') details.status = 'must be "active" or "paused"';
    else out.status = input.status;
  }
  if (input.filter !== undefined) {
    const problem = filterProblem(input.filter);
    if (problem) details.filter = problem;
    else out.filter = copyFilter(input.filter as Record<string, unknown> | null);
  }
  if (Object.keys(details).length) throw validationFailed(details);
  return out;
}

/** True when every filter key equals the same key of the event's `data` (no filter matches everything). */
export function filterMatches(filter: EndpointFilter | null, data: unknown): boolean {
  if (!filter) return true;
  // Filters name attributes of an object (`agentId`); an array's `length` or index is none.
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return false;
  for (const key of Object.keys(filter)) {
    if (!Object.prototype.hasOwnProperty.call(data, key)) return false;
    if ((data as Record<string, unknown>)[key] !== filter[key]) return false;
  }
  return true;
}

/** The public view of a stored endpoint: every field but the secrets. */
export function toPublicEndpoint(record: EndpointRecord): Endpoint {
  return {
    id: record.id,
    orgId: record.orgId,
    url: record.url,
    events: [...record.events],
    description: record.description,
    apiVersion: record.apiVersion,
    filter: record.filter ? { ...record.filter } : null,
    status: record.status,
    pausedReason: record.pausedReason,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    deletedAt: record.deletedAt,
  };
}
