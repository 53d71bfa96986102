import type { ErrorDetails } from '../errors.js';
import type { Attempt, Delivery, DeliveryWithAttempts, Endpoint, WebhookEvent } from '../model.js';
import { setDetail } from './input.js';
import type { WireFormat } from './types.js';
import { isoString } from '../iso-time.js';

/** Every field name the API reads or writes, in the core's camelCase. */
const FIELDS = [
  'id',
  'orgId',
  'url',
  'events',
  'description',
  'filter',
  'apiVersion',
  'active',
  'status',
  'pausedReason',
  'createdAt',
  'updatedAt',
  'deletedAt',
  'secret',
  'secretDisplayedOnce',
  'nextCursor',
  'eventId',
  'endpointId',
  'eventType',
  'attemptCount',
  'nextAttemptAt',
  'lastAttemptAt',
  'lastStatusCode',
  'lastError',
  'completedAt',
  'attempts',
  'deliveryId',
  'attemptNumber',
  'startedAt',
  'durationMs',
  'statusCode',
  'errorKind',
  'errorMessage',
  'responseExcerpt',
  'type',
  'data',
  'idempotencyKey',
  'since',
  'until',
  'limit',
  'cursor',
  'deleted',
  'replayed',
  'event',
  'delivery',
  'apiVersions',
  'supported',
  'deprecated',
  'current',
] as const;

export type Field = (typeof FIELDS)[number];
type Names = Record<Field, string>;

const toSnake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function namesFor(format: WireFormat): Names {
  const names = {} as Names;
  for (const field of FIELDS) names[field] = format === 'snake_case' ? toSnake(field) : field;
  return names;
}

const iso = (date: Date | null): string | null => (date ? isoString(date) : null);
/** Characters JSON.stringify escapes: quote, backslash, controls, and surrogates (a lone one becomes `\uXXXX`). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
/** A string as JSON text. Most need no escape, and a regex test then costs half a JSON.stringify call. */
const quote = (value: string): string => (NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`);
/** A string or null as JSON text. */
const textJson = (value: string | null): string => (value === null ? 'null' : quote(value));
/** An instant as JSON text: ISO strings need no escaping. */
const isoJson = (date: Date | null): string => (date ? `"${isoString(date)}"` : 'null');
/** A list of strings as JSON text. */
function stringsJson(values: readonly string[]): string {
  if (values.length === 0) return '[]';
  let json = `[${quote(values[0] as string)}`;
  for (let i = 1; i < values.length; i++) json += `,${quote(values[i] as string)}`;
  return `${json}]`;
}

/**
 * Converts between the core's objects and the wire in one casing. Only field names are
 * renamed: user data (`filter` keys, event `data`) goes out exactly as it was stored.
 */
export class Wire {
  readonly format: WireFormat;
  readonly names: Readonly<Names>;
  private readonly fromWire: ReadonlyMap<string, Field>;
  /** `,"org_id":` and the like: each field's name as JSON text, ready to be followed by its value. */
  private readonly keys: Readonly<Names>;

  constructor(format: WireFormat) {
    this.format = format;
    this.names = namesFor(format);
    this.fromWire = new Map(FIELDS.map((field) => [this.names[field], field]));
    const keys = {} as Names;
    for (const field of FIELDS) keys[field] = `,${JSON.stringify(this.names[field])}:`;
    this.keys = keys;
  }

  endpoint(e: Endpoint): Record<string, unknown> {
    const n = this.names;
    return {
      id: e.id,
      [n.orgId]: e.orgId,
      url: e.url,
      events: e.events,
      description: e.description,
      filter: e.filter,
      [n.apiVersion]: e.apiVersion,
      active: e.status === 'active',
      status: e.status,
      [n.pausedReason]: e.pausedReason,
      [n.createdAt]: iso(e.createdAt),
      [n.updatedAt]: iso(e.updatedAt),
      [n.deletedAt]: iso(e.deletedAt),
    };
  }

  /**
   * `JSON.stringify(this.endpoint(e))`, written directly: the answers of the hottest routes skip
   * building the wire object and walking it again. With `secret`, the create and rotate answer:
   * the endpoint, its new secret, and the seed's reminder that it is shown once.
   * A property test holds the two to the same text.
   */
  endpointJson(e: Endpoint, secret?: string): string {
    const k = this.keys;
    let json =
      `{"id":${quote(e.id)}${k.orgId}${quote(e.orgId)}${k.url}${quote(e.url)}` +
      `${k.events}${stringsJson(e.events)}${k.description}${textJson(e.description)}${k.filter}${JSON.stringify(e.filter)}` +
      `${k.apiVersion}${quote(e.apiVersion)}${k.active}${e.status === 'active'}${k.status}${quote(e.status)}` +
      `${k.pausedReason}${textJson(e.pausedReason)}${k.createdAt}${isoJson(e.createdAt)}${k.updatedAt}${isoJson(e.updatedAt)}` +
      `${k.deletedAt}${isoJson(e.deletedAt)}`;
    if (secret !== undefined) json += `${k.secret}${quote(secret)}${k.secretDisplayedOnce}true`;
    return `${json}}`;
  }

  delivery(d: Delivery): Record<string, unknown> {
    const n = this.names;
    return {
      id: d.id,
      [n.orgId]: d.orgId,
      [n.eventId]: d.eventId,
      [n.endpointId]: d.endpointId,
      [n.eventType]: d.eventType,
      status: d.status,
      [n.attemptCount]: d.attemptCount,
      [n.nextAttemptAt]: iso(d.nextAttemptAt),
      [n.lastAttemptAt]: iso(d.lastAttemptAt),
      [n.lastStatusCode]: d.lastStatusCode,
      [n.lastError]: d.lastError,
      [n.createdAt]: iso(d.createdAt),
      [n.updatedAt]: iso(d.updatedAt),
      [n.completedAt]: iso(d.completedAt),
    };
  }

  deliveryWithAttempts(d: DeliveryWithAttempts): Record<string, unknown> {
    const out = this.delivery(d);
    out.attempts = d.attempts.map((a) => this.attempt(a));
    return out;
  }

  attempt(a: Attempt): Record<string, unknown> {
    const n = this.names;
    return {
      id: a.id,
      [n.deliveryId]: a.deliveryId,
      [n.attemptNumber]: a.attemptNumber,
      [n.startedAt]: iso(a.startedAt),
      [n.durationMs]: a.durationMs,
      [n.statusCode]: a.statusCode,
      [n.errorKind]: a.errorKind,
      [n.errorMessage]: a.errorMessage,
      [n.responseExcerpt]: a.responseExcerpt,
    };
  }

  event(e: WebhookEvent): Record<string, unknown> {
    const n = this.names;
    return { id: e.id, [n.orgId]: e.orgId, type: e.type, data: e.data, [n.idempotencyKey]: e.idempotencyKey, [n.createdAt]: iso(e.createdAt) };
  }

  page<T>(data: T[], nextCursor: string | null, serialize: (item: T) => Record<string, unknown>): Record<string, unknown> {
    return { data: data.map(serialize), [this.names.nextCursor]: nextCursor };
  }

  /** The wire name of a core field, used to key validation `details` the way the caller spelled them. */
  wireName(field: string): string {
    // hasOwn: `__proto__` or `constructor` would otherwise name Object.prototype's members.
    return Object.hasOwn(this.names, field) ? (this.names as Record<string, string>)[field] as string : field;
  }

  /**
   * Picks the allowed fields of a request object, renamed to the core's names. A key that is
   * not an allowed field in this casing (including the other casing's spelling) is reported
   * as `unknown field`, keyed as the caller sent it; `unknown` is null when there is none.
   */
  readInput(body: Record<string, unknown>, allowed: readonly Field[]): { input: Record<string, unknown>; unknown: ErrorDetails | null } {
    const input: Record<string, unknown> = {};
    // Made only for a body with an unknown field: nearly every request has none.
    let unknown: ErrorDetails | null = null;
    for (const key of Object.keys(body)) {
      const field = this.fromWire.get(key);
      if (field !== undefined && allowed.includes(field)) input[field] = body[key];
      else setDetail((unknown ??= {}), key, 'unknown field');
    }
    return { input, unknown };
  }
}
