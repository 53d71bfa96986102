import type { Insertable, Selectable } from 'kysely';
import type {
  Attempt,
  AttemptErrorKind,
  Delivery,
  DeliveryStatus,
  EndpointFilter,
  EndpointRecord,
  EndpointSecret,
  EndpointStatus,
  PausedReason,
  WebhookEvent,
} from '../../src/model.js';
import type { AttemptsTable, DeliveriesTable, EndpointsTable, EventsTable } from './schema.js';

export type EndpointRow = Selectable<EndpointsTable>;
export type EventRow = Selectable<EventsTable>;
export type DeliveryRow = Selectable<DeliveriesTable>;
export type AttemptRow = Selectable<AttemptsTable>;
export type NewEndpointRow = Insertable<EndpointsTable>;
export type NewEventRow = Insertable<EventsTable>;
export type NewDeliveryRow = Insertable<DeliveriesTable>;
export type NewAttemptRow = Insertable<AttemptsTable>;

/** pg returns BIGINT as a string; SQLite returns a number. Both become a number here. */
export function epochMs(value: number | string): number {
  return typeof value === 'number' ? value : Number(value);
}

function date(value: number | string): Date {
  return new Date(epochMs(value));
}

function dateOrNull(value: number | string | null): Date | null {
  return value === null ? null : date(value);
}

interface StoredSecret {
  secret: string;
  createdAt: number;
  expiresAt: number | null;
}

export function encodeSecrets(secrets: EndpointSecret[]): string {
  const stored: StoredSecret[] = secrets.map((s) => ({ secret: s.secret, createdAt: s.createdAt.getTime(), expiresAt: s.expiresAt?.getTime() ?? null }));
  return JSON.stringify(stored);
}

function decodeSecrets(text: string): EndpointSecret[] {
  return (JSON.parse(text) as StoredSecret[]).map((s) => ({
    secret: s.secret,
    createdAt: new Date(s.createdAt),
    expiresAt: s.expiresAt === null ? null : new Date(s.expiresAt),
  }));
}

export function endpointToRow(record: EndpointRecord): Required<NewEndpointRow> {
  return {
    id: record.id,
    org_id: record.orgId,
    url: record.url,
    events: JSON.stringify(record.events),
    description: record.description,
    api_version: record.apiVersion,
    filter: record.filter === null ? null : JSON.stringify(record.filter),
    status: record.status,
    paused_reason: record.pausedReason,
    created_at: record.createdAt.getTime(),
    updated_at: record.updatedAt.getTime(),
    deleted_at: record.deletedAt?.getTime() ?? null,
    secrets: encodeSecrets(record.secrets),
  };
}

export function endpointFromRow(row: EndpointRow): EndpointRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    description: row.description,
    apiVersion: row.api_version,
    filter: row.filter === null ? null : (JSON.parse(row.filter) as EndpointFilter),
    status: row.status as EndpointStatus,
    pausedReason: row.paused_reason as PausedReason | null,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
    deletedAt: dateOrNull(row.deleted_at),
    secrets: decodeSecrets(row.secrets),
  };
}

/**
 * `data` is stored as the JSON text of the event's data. `undefined` (which JSON cannot carry)
 * is stored as JSON null, as it would be sent in the delivery body.
 */
export function eventToRow(event: WebhookEvent): NewEventRow {
  return {
    id: event.id,
    org_id: event.orgId,
    type: event.type,
    data: JSON.stringify(event.data) ?? 'null',
    idempotency_key: event.idempotencyKey,
    created_at: event.createdAt.getTime(),
  };
}

export function eventFromRow(row: EventRow): WebhookEvent {
  return {
    id: row.id,
    orgId: row.org_id,
    type: row.type,
    data: JSON.parse(row.data) as unknown,
    idempotencyKey: row.idempotency_key,
    createdAt: date(row.created_at),
  };
}

export function deliveryToRow(delivery: Delivery): NewDeliveryRow {
  return {
    id: delivery.id,
    org_id: delivery.orgId,
    event_id: delivery.eventId,
    endpoint_id: delivery.endpointId,
    event_type: delivery.eventType,
    status: delivery.status,
    attempt_count: delivery.attemptCount,
    requeued_at_attempt: delivery.requeuedAtAttempt,
    next_attempt_at: delivery.nextAttemptAt?.getTime() ?? null,
    last_attempt_at: delivery.lastAttemptAt?.getTime() ?? null,
    last_status_code: delivery.lastStatusCode,
    last_error: delivery.lastError,
    created_at: delivery.createdAt.getTime(),
    updated_at: delivery.updatedAt.getTime(),
    completed_at: delivery.completedAt?.getTime() ?? null,
    lease_token: null,
  };
}

export function deliveryFromRow(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    orgId: row.org_id,
    eventId: row.event_id,
    endpointId: row.endpoint_id,
    eventType: row.event_type,
    status: row.status as DeliveryStatus,
    attemptCount: Number(row.attempt_count),
    requeuedAtAttempt: Number(row.requeued_at_attempt),
    nextAttemptAt: dateOrNull(row.next_attempt_at),
    lastAttemptAt: dateOrNull(row.last_attempt_at),
    lastStatusCode: row.last_status_code,
    lastError: row.last_error as AttemptErrorKind | null,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
    completedAt: dateOrNull(row.completed_at),
  };
}

export function attemptToRow(attempt: Attempt): NewAttemptRow {
  return {
    id: attempt.id,
    delivery_id: attempt.deliveryId,
    org_id: attempt.orgId,
    endpoint_id: attempt.endpointId,
    attempt_number: attempt.attemptNumber,
    started_at: attempt.startedAt.getTime(),
    duration_ms: attempt.durationMs,
    status_code: attempt.statusCode,
    error_kind: attempt.errorKind,
    error_message: withoutNul(attempt.errorMessage),
    response_excerpt: withoutNul(attempt.responseExcerpt),
  };
}

/**
 * Postgres text cannot hold U+0000, and a receiver's response body may contain it: stored as
 * U+FFFD instead, so recording the attempt can never fail on what a receiver sent back.
 */
function withoutNul(text: string | null): string | null {
  return text !== null && text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

export function attemptFromRow(row: AttemptRow): Attempt {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    orgId: row.org_id,
    endpointId: row.endpoint_id,
    attemptNumber: row.attempt_number,
    startedAt: date(row.started_at),
    durationMs: Number(row.duration_ms),
    statusCode: row.status_code,
    errorKind: row.error_kind as AttemptErrorKind | null,
    errorMessage: row.error_message,
    responseExcerpt: row.response_excerpt,
  };
}
