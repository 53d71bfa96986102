import { randomBytes } from 'node:crypto';
import { newId, newUlid } from '../../src/ids.js';
import type { Attempt, AttemptErrorKind, Delivery, EndpointRecord, WebhookEvent } from '../../src/model.js';
import type { NewEventWrite } from '../../src/storage/storage.js';

/**
 * Builders for rows written straight into a Storage. Every instant is explicit and carries
 * odd milliseconds, so a storage that truncates or shifts a timestamp fails deep equality.
 */

/** 2026-03-01T12:00:00.123Z: the suites' time origin. */
export const T0 = Date.UTC(2026, 2, 1, 12, 0, 0, 123);

/** The instant `offsetMs` after T0. */
export function at(offsetMs: number): Date {
  return new Date(T0 + offsetMs);
}

export function secretValue(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function leaseToken(): string {
  return newUlid();
}

export function endpointRecord(orgId: string, createdAt: Date, overrides: Partial<EndpointRecord> = {}): EndpointRecord {
  return {
    id: newId('endpoint', createdAt.getTime()),
    orgId,
    url: 'https://hooks.example.com/receiver',
    events: ['order.created', 'order.paid'],
    description: null,
    apiVersion: '2026-04-01',
    filter: null,
    status: 'active',
    pausedReason: null,
    createdAt,
    updatedAt: createdAt,
    deletedAt: null,
    secrets: [{ secret: secretValue(), createdAt, expiresAt: null }],
    ...overrides,
  };
}

export interface EventSpec {
  type?: string;
  data?: unknown;
  idempotencyKey?: string | null;
  createdAt: Date;
  /** When each delivery is first due; defaults to `createdAt`. */
  dueAt?: Date;
}

export function event(orgId: string, spec: EventSpec): WebhookEvent {
  return {
    id: newId('event', spec.createdAt.getTime()),
    orgId,
    type: spec.type ?? 'order.created',
    data: spec.data ?? { orderId: 'ord_1', amount: 1250 },
    idempotencyKey: spec.idempotencyKey ?? null,
    createdAt: spec.createdAt,
  };
}

/** A fresh delivery of `evt` to `endpoint`: pending and due, or held when the endpoint is paused. */
export function delivery(evt: WebhookEvent, endpoint: EndpointRecord, dueAt: Date = evt.createdAt): Delivery {
  const held = endpoint.status === 'paused';
  return {
    id: newId('delivery', evt.createdAt.getTime()),
    orgId: evt.orgId,
    eventId: evt.id,
    endpointId: endpoint.id,
    eventType: evt.type,
    status: held ? 'held' : 'pending',
    attemptCount: 0,
    requeuedAtAttempt: 0,
    nextAttemptAt: held ? null : dueAt,
    lastAttemptAt: null,
    lastStatusCode: null,
    lastError: null,
    createdAt: evt.createdAt,
    updatedAt: evt.createdAt,
    completedAt: null,
  };
}

/** An event and one delivery per endpoint, as `emit` would write them. */
export function eventWrite(orgId: string, endpoints: EndpointRecord[], spec: EventSpec): NewEventWrite {
  const evt = event(orgId, spec);
  return { event: evt, deliveries: endpoints.map((e) => delivery(evt, e, spec.dueAt ?? spec.createdAt)) };
}

export interface AttemptSpec {
  attemptNumber: number;
  startedAt: Date;
  statusCode?: number | null;
  errorKind?: AttemptErrorKind | null;
}

export function attempt(d: Delivery, spec: AttemptSpec): Attempt {
  const statusCode = spec.statusCode === undefined ? 500 : spec.statusCode;
  return {
    id: newId('attempt', spec.startedAt.getTime()),
    deliveryId: d.id,
    orgId: d.orgId,
    endpointId: d.endpointId,
    attemptNumber: spec.attemptNumber,
    startedAt: spec.startedAt,
    durationMs: 37,
    statusCode,
    errorKind: spec.errorKind === undefined ? (statusCode !== null && statusCode >= 300 ? 'http' : null) : spec.errorKind,
    errorMessage: statusCode !== null && statusCode >= 300 ? `HTTP ${statusCode}` : null,
    responseExcerpt: statusCode === null ? null : '{"ok":false,"note":"ünïcødé ✓"}',
  };
}
