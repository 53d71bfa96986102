import type { Attempt, Delivery, EndpointRecord } from '../model.js';

// Copies of what memory storage keeps, made on the way in and out: what a caller holds never aliases what is stored.

export const copyDate = (d: Date | null): Date | null => (d === null ? null : new Date(d));

export function copyDelivery(d: Delivery): Delivery {
  return {
    id: d.id,
    orgId: d.orgId,
    eventId: d.eventId,
    endpointId: d.endpointId,
    eventType: d.eventType,
    status: d.status,
    attemptCount: d.attemptCount,
    requeuedAtAttempt: d.requeuedAtAttempt,
    nextAttemptAt: copyDate(d.nextAttemptAt),
    lastAttemptAt: copyDate(d.lastAttemptAt),
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    createdAt: new Date(d.createdAt),
    updatedAt: new Date(d.updatedAt),
    completedAt: copyDate(d.completedAt),
  };
}

export function copyEndpoint(e: EndpointRecord): EndpointRecord {
  return {
    ...e,
    events: [...e.events],
    // Filter values are strings, numbers and booleans: a shallow copy is a full one.
    filter: e.filter ? { ...e.filter } : null,
    createdAt: new Date(e.createdAt),
    updatedAt: new Date(e.updatedAt),
    deletedAt: copyDate(e.deletedAt),
    secrets: e.secrets.map((s) => ({ secret: s.secret, createdAt: new Date(s.createdAt), expiresAt: copyDate(s.expiresAt) })),
  };
}

export function copyAttempt(a: Attempt): Attempt {
  return { ...a, startedAt: new Date(a.startedAt) };
}
