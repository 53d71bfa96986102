import type { Catalog } from '../catalog.js';
import { type Duration, parseDuration } from '../duration.js';
import { type ErrorDetails, describeThrown, validationFailed, WebhookError } from '../errors.js';
import { hasUnstorableText, UNSTORABLE_TEXT_PROBLEM } from '../endpoints.js';
import { isId } from '../ids.js';
import type { DeliveryStatus } from '../model.js';

export interface EmitInput {
  /** An event type from the catalog. */
  type: string;
  /** Any JSON value; sent as the body's `data`. Endpoint filters compare against its keys. */
  data: unknown;
  /** Emitting again with the same key in the same org returns the first event and writes nothing. */
  idempotencyKey?: string | null;
}

export interface ListDeliveriesOptions {
  endpointId?: string;
  eventId?: string;
  status?: DeliveryStatus;
  /** Created at or after (Date or ISO 8601 string). */
  since?: Date | string;
  /** Created before (Date or ISO 8601 string). */
  until?: Date | string;
  /** 1..100, default 20. */
  limit?: number;
  cursor?: string | null;
}

export interface ReplayOptions {
  /** Created at or after (Date or ISO 8601 string). */
  since: Date | string;
  /** Created before; default: now. */
  until?: Date | string;
  /** Which finished deliveries to send again; default both `succeeded` and `failed`. */
  status?: 'succeeded' | 'failed' | 'cancelled';
}

export interface PruneOptions {
  /** A cut-off instant, or an age such as `'30d'`: finished deliveries completed before it are deleted. */
  olderThan: Date | Duration;
}

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
const DELIVERY_STATUSES: ReadonlySet<string> = new Set(['pending', 'held', 'succeeded', 'failed', 'cancelled']);
const FINISHED_STATUSES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownKeys(input: Record<string, unknown>, allowed: readonly string[], details: ErrorDetails): void {
  for (const key of Object.keys(input)) {
    if (allowed.includes(key)) continue;
    // defineProperty: assigning a `__proto__` key would set the prototype and lose the problem.
    Object.defineProperty(details, key.slice(0, 100), { value: 'unknown field', enumerable: true, writable: true, configurable: true });
  }
}

export interface ValidEmit {
  type: string;
  /** `data` as JSON text, exactly as it will appear in the body. */
  dataJson: string;
  idempotencyKey: string | null;
}

/** Validates an emit; the serialized size is checked by the caller, which knows the whole body. */
export function validateEmit(input: unknown, catalog: Catalog): ValidEmit {
  if (!isPlainObject(input)) throw validationFailed({ body: 'must be an object { type, data, idempotencyKey? }' });
  const details: ErrorDetails = {};
  unknownKeys(input, ['type', 'data', 'idempotencyKey'], details);
  if (typeof input.type !== 'string' || !catalog.has(input.type)) details.type = 'must be a known event type';
  let dataJson: string | undefined;
  if (input.data === undefined) details.data = 'is required (any JSON value)';
  else {
    try {
      dataJson = JSON.stringify(input.data);
    } catch (err) {
      // A toJSON may throw anything, `null` included.
      details.data = `must be JSON-serializable (${describeThrown(err).slice(0, 100)})`;
    }
    if (dataJson === undefined && !details.data) details.data = 'must be a JSON value';
  }
  const key = input.idempotencyKey;
  if (key !== undefined && key !== null && (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    details.idempotencyKey = `must be a string of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`;
  }
  if (typeof key === 'string' && hasUnstorableText(key)) details.idempotencyKey = UNSTORABLE_TEXT_PROBLEM;
  if (Object.keys(details).length) throw validationFailed(details);
  return { type: input.type as string, dataJson: dataJson as string, idempotencyKey: (key as string | null | undefined) ?? null };
}

export function payloadTooLarge(bytes: number, limit: number): WebhookError {
  return new WebhookError('PAYLOAD_TOO_LARGE', `the event body is ${bytes} bytes; the limit is ${limit} (limits.maxPayloadBytes)`, {
    details: { data: `serialized body must be at most ${limit} bytes` },
  });
}

function parseInstant(value: unknown, field: string, details: ErrorDetails): Date | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) {
    details[field] = 'must be a date (ISO 8601)';
    return undefined;
  }
  return date;
}

export interface ValidDeliveryFilter {
  endpointId?: string;
  eventId?: string;
  status?: DeliveryStatus;
  since?: Date;
  until?: Date;
}

/** Validates the filters of `listDeliveries` (paging is validated by `parsePage`). */
export function validateDeliveryFilter(input: unknown): ValidDeliveryFilter {
  if (!isPlainObject(input)) throw validationFailed({ query: 'must be an object' });
  const details: ErrorDetails = {};
  unknownKeys(input, ['endpointId', 'eventId', 'status', 'since', 'until', 'limit', 'cursor'], details);
  const out: ValidDeliveryFilter = {};
  if (input.endpointId !== undefined) {
    if (isId('endpoint', input.endpointId)) out.endpointId = input.endpointId;
    else details.endpointId = 'must be an endpoint id (wh_…)';
  }
  if (input.eventId !== undefined) {
    if (isId('event', input.eventId)) out.eventId = input.eventId;
    else details.eventId = 'must be an event id (evt_…)';
  }
  if (input.status !== undefined) {
    if (typeof input.status === 'string' && DELIVERY_STATUSES.has(input.status)) out.status = input.status as DeliveryStatus;
    else details.status = `must be one of: ${[...DELIVERY_STATUSES].join(', ')}`;
  }
  const since = parseInstant(input.since, 'since', details);
  const until = parseInstant(input.until, 'until', details);
  if (since) out.since = since;
  if (until) out.until = until;
  if (since && until && since.getTime() >= until.getTime()) details.until = 'must be after since';
  if (Object.keys(details).length) throw validationFailed(details);
  return out;
}

export interface ValidReplay {
  since: Date;
  until?: Date;
  status?: DeliveryStatus;
}

export function validateReplay(input: unknown): ValidReplay {
  if (!isPlainObject(input)) throw validationFailed({ body: 'must be an object { since, until?, status? }' });
  const details: ErrorDetails = {};
  unknownKeys(input, ['since', 'until', 'status'], details);
  if (input.since === undefined) details.since = 'is required';
  const since = parseInstant(input.since, 'since', details);
  const until = parseInstant(input.until, 'until', details);
  if (since && until && since.getTime() >= until.getTime()) details.until = 'must be after since';
  if (input.status !== undefined && !(typeof input.status === 'string' && FINISHED_STATUSES.has(input.status))) {
    details.status = 'must be one of: succeeded, failed, cancelled';
  }
  if (Object.keys(details).length) throw validationFailed(details);
  const out: ValidReplay = { since: since as Date };
  if (until) out.until = until;
  if (input.status !== undefined) out.status = input.status as DeliveryStatus;
  return out;
}

/** The prune cut-off: an instant as given, or `now - age`. */
export function validatePrune(input: unknown, nowMs: number): Date {
  const olderThan = isPlainObject(input) ? input.olderThan : undefined;
  if (olderThan instanceof Date && !Number.isNaN(olderThan.getTime())) return olderThan;
  const age = typeof olderThan === 'number' || typeof olderThan === 'string' ? parseDuration(olderThan) : undefined;
  if (age === undefined) throw validationFailed({ olderThan: "must be a Date or an age such as '30d'" });
  return new Date(nowMs - age);
}
