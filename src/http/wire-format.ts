import type { Attempt, Delivery, DeliveryWithAttempts, Endpoint, WebhookEvent } from '../model.js';
import type { WireFormat } from './types.js';

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

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

/**
 * Converts between the core's objects and the wire in one casing. Only field names are
 * renamed: user data (`filter` keys, event `data`) goes out exactly as it was stored.
 */
export class Wire {
  readonly format: WireFormat;
  readonly names: Readonly<Names>;
  private readonly fromWire: ReadonlyMap<string, Field>;

  constructor(format: WireFormat) {
    this.format = format;
    this.names = namesFor(format);
    this.fromWire = new Map(FIELDS.map((field) => [this.names[field], field]));
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

  /** The create and rotate answer: the endpoint, its new secret, and the seed's reminder that it is shown once. */
  endpointWithSecret(e: Endpoint, secret: string): Record<string, unknown> {
    const out = this.endpoint(e);
    out.secret = secret;
    out[this.names.secretDisplayedOnce] = true;
    return out;
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

  /** The core field a caller's key names in this casing, or undefined (the other casing's spelling included). */
  fieldOf(wireName: string): Field | undefined {
    return this.fromWire.get(wireName);
  }
}
