import { limitExceeded, WebhookError } from '../errors.js';
import type { Attempt, Delivery, DeliveryWithAttempts, EndpointRecord, EndpointSecret, PausedReason, WebhookEvent } from '../model.js';
import type {
  ClaimedDelivery,
  ClaimRequest,
  CompleteAttemptRequest,
  EndpointPatch,
  InsertEventResult,
  ListDeliveriesQuery,
  ListEndpointsQuery,
  NewEventWrite,
  PruneQuery,
  PruneResult,
  ReplayQuery,
  Storage,
  WriteOptions,
} from './storage.js';

interface LeasedDelivery extends Delivery {
  leaseToken: string | null;
}

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * Everything in one process's memory: for unit tests and for trying hookrelay out. Nothing
 * survives a restart. Each method runs synchronously between awaits, which makes it atomic.
 * Returned objects are copies: mutating them never changes what is stored.
 */
export class MemoryStorage implements Storage {
  readonly kind = 'memory';
  private readonly endpoints = new Map<string, EndpointRecord>();
  private readonly events = new Map<string, WebhookEvent>();
  private readonly eventsByKey = new Map<string, string>();
  private readonly deliveries = new Map<string, LeasedDelivery>();
  private readonly attempts = new Map<string, Attempt[]>();

  async migrate(): Promise<void> {}

  async close(): Promise<void> {}

  // ---- endpoints ----

  async createEndpoint(record: EndpointRecord, limits: { maxPerOrg: number }): Promise<EndpointRecord> {
    let count = 0;
    for (const e of this.endpoints.values()) if (e.orgId === record.orgId && !e.deletedAt) count++;
    if (count >= limits.maxPerOrg) throw limitExceeded(`webhook endpoint limit reached (max ${limits.maxPerOrg})`);
    if (this.endpoints.has(record.id)) throw new WebhookError('CONFLICT', 'endpoint id already exists');
    this.endpoints.set(record.id, structuredClone(record));
    return structuredClone(record);
  }

  async getEndpoint(orgId: string, id: string): Promise<EndpointRecord | null> {
    const e = this.liveEndpoint(orgId, id);
    return e ? structuredClone(e) : null;
  }

  async listEndpoints(orgId: string, query: ListEndpointsQuery): Promise<EndpointRecord[]> {
    return [...this.endpoints.values()]
      .filter((e) => e.orgId === orgId && !e.deletedAt && (!query.beforeId || e.id < query.beforeId))
      .sort((a, b) => (a.id < b.id ? 1 : -1))
      .slice(0, query.limit)
      .map((e) => structuredClone(e));
  }

  async listSubscribedEndpoints(orgId: string, eventType: string): Promise<EndpointRecord[]> {
    return [...this.endpoints.values()]
      .filter((e) => e.orgId === orgId && !e.deletedAt && e.events.includes(eventType))
      .map((e) => structuredClone(e));
  }

  async updateEndpoint(orgId: string, id: string, patch: EndpointPatch, now: Date): Promise<EndpointRecord | null> {
    const e = this.liveEndpoint(orgId, id);
    if (!e) return null;
    const wasStatus = e.status;
    if (patch.url !== undefined) e.url = patch.url;
    if (patch.events !== undefined) e.events = [...patch.events];
    if (patch.description !== undefined) e.description = patch.description;
    if (patch.filter !== undefined) e.filter = patch.filter ? { ...patch.filter } : null;
    if (patch.status !== undefined) e.status = patch.status;
    if (patch.pausedReason !== undefined) e.pausedReason = patch.pausedReason;
    if (e.status === 'active') e.pausedReason = null;
    e.updatedAt = now;
    if (wasStatus === 'active' && e.status === 'paused') this.holdDeliveries(e.id, now);
    if (wasStatus === 'paused' && e.status === 'active') this.releaseHeld(e.id, now);
    return structuredClone(e);
  }

  async pauseEndpoint(id: string, reason: PausedReason, now: Date): Promise<EndpointRecord | null> {
    const e = this.endpoints.get(id);
    if (!e || e.deletedAt || e.status !== 'active') return null;
    e.status = 'paused';
    e.pausedReason = reason;
    e.updatedAt = now;
    this.holdDeliveries(id, now);
    return structuredClone(e);
  }

  async deleteEndpoint(orgId: string, id: string, now: Date): Promise<boolean> {
    const e = this.liveEndpoint(orgId, id);
    if (!e) return false;
    e.deletedAt = now;
    e.updatedAt = now;
    for (const d of this.deliveries.values()) {
      if (d.endpointId === id && (d.status === 'pending' || d.status === 'held')) {
        Object.assign(d, { status: 'cancelled', nextAttemptAt: null, leaseToken: null, completedAt: now, updatedAt: now });
      }
    }
    return true;
  }

  async rotateSecret(orgId: string, id: string, secret: EndpointSecret, previousExpiresAt: Date, now: Date): Promise<EndpointRecord | null> {
    const e = this.liveEndpoint(orgId, id);
    if (!e) return null;
    const kept = e.secrets
      .map((s) => (s.expiresAt === null ? { ...s, expiresAt: previousExpiresAt } : s))
      .filter((s) => (s.expiresAt as Date).getTime() > now.getTime());
    e.secrets = [structuredClone(secret), ...kept];
    e.updatedAt = now;
    return structuredClone(e);
  }

  // ---- events and deliveries ----

  async insertEvent(write: NewEventWrite, options: WriteOptions = {}): Promise<InsertEventResult> {
    if (options.transaction !== undefined) {
      throw new WebhookError('BAD_REQUEST', 'memory storage cannot join a host transaction; use a SQL storage for transactional emit');
    }
    const { event } = write;
    if (event.idempotencyKey !== null) {
      const existingId = this.eventsByKey.get(idempotencyIndex(event.orgId, event.idempotencyKey));
      if (existingId) {
        const existing = this.events.get(existingId) as WebhookEvent;
        const deliveries = [...this.deliveries.values()].filter((d) => d.eventId === existingId).map(publicDelivery);
        return { event: structuredClone(existing), deliveries, created: false };
      }
      this.eventsByKey.set(idempotencyIndex(event.orgId, event.idempotencyKey), event.id);
    }
    this.events.set(event.id, structuredClone(event));
    for (const d of write.deliveries) this.deliveries.set(d.id, { ...structuredClone(d), leaseToken: null });
    return { event: structuredClone(event), deliveries: write.deliveries.map((d) => structuredClone(d)), created: true };
  }

  async getEvent(orgId: string, id: string): Promise<WebhookEvent | null> {
    const e = this.events.get(id);
    return e && e.orgId === orgId ? structuredClone(e) : null;
  }

  async claimDueDeliveries(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    const now = request.now.getTime();
    const due = [...this.deliveries.values()]
      .filter((d) => d.status === 'pending' && d.nextAttemptAt !== null && d.nextAttemptAt.getTime() <= now)
      .sort((a, b) => (a.nextAttemptAt as Date).getTime() - (b.nextAttemptAt as Date).getTime() || (a.id < b.id ? -1 : 1))
      .slice(0, request.limit);
    const leaseUntil = new Date(now + request.leaseMs);
    return due.map((d) => {
      d.leaseToken = request.leaseToken;
      d.nextAttemptAt = leaseUntil;
      return {
        delivery: publicDelivery(d),
        event: structuredClone(this.events.get(d.eventId) as WebhookEvent),
        endpoint: structuredClone(this.endpoints.get(d.endpointId) as EndpointRecord),
        leaseToken: request.leaseToken,
      };
    });
  }

  async completeAttempt(request: CompleteAttemptRequest): Promise<boolean> {
    const d = this.deliveries.get(request.deliveryId);
    if (!d || d.leaseToken !== request.leaseToken || d.status !== 'pending') return false;
    const { now, next, attempt } = request;
    if (attempt) {
      const list = this.attempts.get(d.id) ?? [];
      list.push(structuredClone(attempt));
      this.attempts.set(d.id, list);
      d.attemptCount += 1;
      d.lastAttemptAt = attempt.startedAt;
      d.lastStatusCode = attempt.statusCode;
      d.lastError = attempt.errorKind;
    }
    const endpoint = this.endpoints.get(d.endpointId);
    let status = next.status;
    // The endpoint may have been paused or deleted while the attempt was in flight.
    if (status === 'pending' && endpoint?.deletedAt) status = 'cancelled';
    else if (status === 'pending' && endpoint?.status === 'paused') status = 'held';
    d.status = status;
    d.leaseToken = null;
    d.updatedAt = now;
    d.nextAttemptAt = status === 'pending' && next.status === 'pending' ? next.nextAttemptAt : null;
    d.completedAt = FINISHED.has(status) ? now : null;
    return true;
  }

  async releaseLeases(deliveryIds: string[], leaseToken: string, now: Date): Promise<number> {
    let released = 0;
    for (const id of deliveryIds) {
      const d = this.deliveries.get(id);
      if (!d || d.leaseToken !== leaseToken || d.status !== 'pending') continue;
      d.leaseToken = null;
      d.nextAttemptAt = now;
      d.updatedAt = now;
      released++;
    }
    return released;
  }

  async nextDueAt(): Promise<Date | null> {
    let min: number | null = null;
    for (const d of this.deliveries.values()) {
      if (d.status === 'pending' && d.nextAttemptAt && (min === null || d.nextAttemptAt.getTime() < min)) min = d.nextAttemptAt.getTime();
    }
    return min === null ? null : new Date(min);
  }

  async listDeliveries(orgId: string, query: ListDeliveriesQuery): Promise<Delivery[]> {
    return [...this.deliveries.values()]
      .filter(
        (d) =>
          d.orgId === orgId &&
          (!query.endpointId || d.endpointId === query.endpointId) &&
          (!query.eventId || d.eventId === query.eventId) &&
          (!query.status || d.status === query.status) &&
          (!query.since || d.createdAt.getTime() >= query.since.getTime()) &&
          (!query.until || d.createdAt.getTime() < query.until.getTime()) &&
          (!query.beforeId || d.id < query.beforeId),
      )
      .sort((a, b) => (a.id < b.id ? 1 : -1))
      .slice(0, query.limit)
      .map(publicDelivery);
  }

  async getDelivery(orgId: string, id: string): Promise<DeliveryWithAttempts | null> {
    const d = this.deliveries.get(id);
    if (!d || d.orgId !== orgId) return null;
    return { ...publicDelivery(d), attempts: (this.attempts.get(id) ?? []).map((a) => structuredClone(a)) };
  }

  async retryDelivery(orgId: string, id: string, now: Date): Promise<Delivery | null> {
    const d = this.deliveries.get(id);
    if (!d || d.orgId !== orgId) return null;
    const endpoint = this.endpoints.get(d.endpointId);
    if (!endpoint || endpoint.deletedAt) return null;
    this.requeue(d, endpoint, now);
    return publicDelivery(d);
  }

  async replayDeliveries(orgId: string, endpointId: string, query: ReplayQuery, now: Date): Promise<number> {
    const endpoint = this.liveEndpoint(orgId, endpointId);
    if (!endpoint) return 0;
    let count = 0;
    for (const d of this.deliveries.values()) {
      if (d.endpointId !== endpointId || !FINISHED.has(d.status)) continue;
      if (query.status ? d.status !== query.status : d.status === 'cancelled') continue;
      if (d.createdAt.getTime() < query.since.getTime()) continue;
      if (query.until && d.createdAt.getTime() >= query.until.getTime()) continue;
      this.requeue(d, endpoint, now);
      count++;
    }
    return count;
  }

  async prune(query: PruneQuery): Promise<PruneResult> {
    const result: PruneResult = { deliveries: 0, attempts: 0, events: 0 };
    const touched = new Set<string>();
    for (const [id, d] of this.deliveries) {
      if (FINISHED.has(d.status) && d.completedAt && d.completedAt.getTime() < query.olderThan.getTime()) {
        this.deliveries.delete(id);
        result.deliveries++;
        result.attempts += this.attempts.get(id)?.length ?? 0;
        this.attempts.delete(id);
        touched.add(d.eventId);
      }
    }
    const stillUsed = new Set([...this.deliveries.values()].map((d) => d.eventId));
    for (const eventId of touched) {
      if (stillUsed.has(eventId)) continue;
      const e = this.events.get(eventId);
      if (e?.idempotencyKey !== null && e?.idempotencyKey !== undefined) this.eventsByKey.delete(idempotencyIndex(e.orgId, e.idempotencyKey));
      this.events.delete(eventId);
      result.events++;
    }
    return result;
  }

  private liveEndpoint(orgId: string, id: string): EndpointRecord | undefined {
    const e = this.endpoints.get(id);
    return e && e.orgId === orgId && !e.deletedAt ? e : undefined;
  }

  private holdDeliveries(endpointId: string, now: Date): void {
    for (const d of this.deliveries.values()) {
      // A leased delivery stays pending: its attempt is in flight and completeAttempt will hold it.
      if (d.endpointId === endpointId && d.status === 'pending' && d.leaseToken === null) {
        Object.assign(d, { status: 'held', nextAttemptAt: null, updatedAt: now });
      }
    }
  }

  private releaseHeld(endpointId: string, now: Date): void {
    for (const d of this.deliveries.values()) {
      if (d.endpointId === endpointId && d.status === 'held') Object.assign(d, { status: 'pending', nextAttemptAt: now, updatedAt: now });
    }
  }

  private requeue(d: LeasedDelivery, endpoint: EndpointRecord, now: Date): void {
    if (!FINISHED.has(d.status)) return;
    const held = endpoint.status === 'paused';
    Object.assign(d, { status: held ? 'held' : 'pending', nextAttemptAt: held ? null : now, completedAt: null, leaseToken: null, updatedAt: now });
  }
}

function idempotencyIndex(orgId: string, key: string): string {
  return `${orgId}\u0000${key}`;
}

function publicDelivery(d: LeasedDelivery): Delivery {
  const { leaseToken: _lease, ...rest } = d;
  return structuredClone(rest);
}

/** In-memory storage for unit tests and experiments. */
export function memoryStorage(): MemoryStorage {
  return new MemoryStorage();
}
