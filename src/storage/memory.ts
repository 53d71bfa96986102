import {
  applyPatch,
  type EndpointChange,
  isFinished,
  onEndpointChange,
  pauseFor,
  type Placement,
  placeAtWrite,
  releaseLease,
  replayedStatuses,
  requeue,
  settleAttempt,
} from '../delivery/transitions.js';
import { limitExceeded, WebhookError } from '../errors.js';
import { type DueEntry, GroupedDueIndex } from './due-queue.js';
import { copyAttempt, copyDate, copyDelivery, copyEndpoint } from './memory-copies.js';
import type { Attempt, Delivery, DeliveryStatus, DeliveryWithAttempts, EndpointRecord, EndpointSecret, PausedReason, WebhookEvent } from '../model.js';
import { rotateSecrets } from '../signing/secret-rotation.js';
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

/** A stored delivery: its public fields and the lease of the claim holding it, if any. */
interface StoredDelivery extends Delivery {
  leaseToken: string | null;
  /** Bumped on every change of status or due time; due-index entries carrying an older value are stale. */
  queueSeq: number;
}

/**
 * A stored event. The payload is kept as JSON, as the SQL storages keep it, so every read
 * returns a fresh copy with the same JSON semantics whichever storage a host picks.
 */
interface StoredEvent {
  event: Omit<WebhookEvent, 'data'>;
  dataJson: string;
  deliveryIds: string[];
}

/**
 * Everything in one process's memory: for unit tests, benchmarks and trying hookrelay out.
 * Nothing survives a restart. Each method runs synchronously between awaits, which makes it
 * atomic. Returned objects are copies: mutating them never changes what is stored.
 */
export class MemoryStorage implements Storage {
  readonly kind = 'memory';
  private readonly endpoints = new Map<string, EndpointRecord>();
  /** Each org's live (not deleted) endpoint ids: what the per-org cap counts and listings walk. */
  private readonly liveEndpointIds = new Map<string, Set<string>>();
  private readonly events = new Map<string, StoredEvent>();
  /** `orgId \0 idempotencyKey` → event id. */
  private readonly eventIdsByKey = new Map<string, string>();
  private readonly deliveries = new Map<string, StoredDelivery>();
  private readonly attempts = new Map<string, Attempt[]>();
  /**
   * Pending deliveries by due time, grouped by endpoint: claims take the oldest due, skipping
   * busy endpoints, without scanning the backlog (the 100k-backlog test in memory.test.ts needs it).
   */
  private readonly due = new GroupedDueIndex((entry) => this.scheduled(entry));
  private queueSeq = 0;

  async migrate(): Promise<void> {}

  async close(): Promise<void> {}

  // ---- endpoints ----

  async createEndpoint(record: EndpointRecord, limits: { maxPerOrg: number }): Promise<EndpointRecord> {
    const orgIds = this.liveEndpointIds.get(record.orgId) ?? new Set<string>();
    if (orgIds.size >= limits.maxPerOrg) throw limitExceeded(`webhook endpoint limit reached (max ${limits.maxPerOrg})`);
    if (this.endpoints.has(record.id)) throw new WebhookError('CONFLICT', 'endpoint id already exists');
    this.endpoints.set(record.id, copyEndpoint(record));
    this.liveEndpointIds.set(record.orgId, orgIds.add(record.id));
    return copyEndpoint(record);
  }

  async getEndpoint(orgId: string, id: string): Promise<EndpointRecord | null> {
    const e = this.liveEndpoint(orgId, id);
    return e ? copyEndpoint(e) : null;
  }

  async listEndpoints(orgId: string, query: ListEndpointsQuery): Promise<EndpointRecord[]> {
    return this.orgEndpoints(orgId)
      .filter((e) => !query.beforeId || e.id < query.beforeId)
      .sort(newestFirst)
      .slice(0, query.limit)
      .map(copyEndpoint);
  }

  async listSubscribedEndpoints(orgId: string, eventType: string): Promise<EndpointRecord[]> {
    return this.orgEndpoints(orgId)
      .filter((e) => e.events.includes(eventType))
      .map(copyEndpoint);
  }

  async updateEndpoint(orgId: string, id: string, patch: EndpointPatch, now: Date): Promise<EndpointRecord | null> {
    const e = this.liveEndpoint(orgId, id);
    if (!e) return null;
    const { endpoint, change } = applyPatch(e, patch, now);
    this.endpoints.set(id, copyEndpoint(endpoint));
    if (change) this.endpointChanged(id, change, now);
    return endpoint;
  }

  async pauseEndpoint(id: string, reason: PausedReason, now: Date): Promise<EndpointRecord | null> {
    return this.pauseNow(id, reason, now);
  }

  // Synchronous, so completeAttemptAndPause can run it with completeNow in one turn.
  private pauseNow(id: string, reason: PausedReason, now: Date): EndpointRecord | null {
    const e = this.endpoints.get(id);
    const paused = e ? pauseFor(e, reason, now) : null;
    if (!paused) return null;
    this.endpoints.set(id, copyEndpoint(paused));
    this.endpointChanged(id, 'paused', now);
    return paused;
  }

  async deleteEndpoint(orgId: string, id: string, now: Date): Promise<boolean> {
    const e = this.liveEndpoint(orgId, id);
    if (!e) return false;
    this.endpoints.set(id, copyEndpoint({ ...e, deletedAt: now, updatedAt: now }));
    this.liveEndpointIds.get(orgId)?.delete(id);
    this.endpointChanged(id, 'deleted', now);
    return true;
  }

  async rotateSecret(orgId: string, id: string, secret: EndpointSecret, previousExpiresAt: Date, now: Date): Promise<EndpointRecord | null> {
    const e = this.liveEndpoint(orgId, id);
    if (!e) return null;
    const rotated = copyEndpoint({ ...e, secrets: rotateSecrets(e.secrets, secret, previousExpiresAt, now), updatedAt: now });
    this.endpoints.set(id, rotated);
    return copyEndpoint(rotated);
  }

  // ---- events and deliveries ----

  async insertEvent(write: NewEventWrite, options: WriteOptions = {}): Promise<InsertEventResult> {
    if (options.transaction !== undefined) {
      throw new WebhookError('BAD_REQUEST', 'memory storage cannot join a host transaction; use a SQL storage for transactional emit');
    }
    const { event } = write;
    const key = event.idempotencyKey === null ? null : idempotencyKey(event.orgId, event.idempotencyKey);
    const existingId = key === null ? undefined : this.eventIdsByKey.get(key);
    if (existingId !== undefined) {
      const existing = this.events.get(existingId) as StoredEvent;
      return { event: toEvent(existing), deliveries: this.eventDeliveries(existing).map(copyDelivery), created: false };
    }
    // Check every id before writing anything, so a refused write leaves no trace.
    if (this.events.has(event.id)) throw new WebhookError('CONFLICT', 'event id already exists');
    const ids = new Set(write.deliveries.map((d) => d.id));
    if (ids.size < write.deliveries.length || [...ids].some((id) => this.deliveries.has(id))) {
      throw new WebhookError('CONFLICT', 'delivery id already exists');
    }
    const stored: StoredEvent = {
      event: { id: event.id, orgId: event.orgId, type: event.type, idempotencyKey: event.idempotencyKey, createdAt: new Date(event.createdAt) },
      dataJson: JSON.stringify(event.data) ?? 'null',
      deliveryIds: [...ids],
    };
    this.events.set(event.id, stored);
    if (key !== null) this.eventIdsByKey.set(key, event.id);
    const deliveries = write.deliveries.map((d) => placeAtWrite(d, this.endpoints.get(d.endpointId)));
    for (const d of deliveries) this.store({ ...copyDelivery(d), leaseToken: null, queueSeq: 0 });
    return { event: toEvent(stored), deliveries: deliveries.map(copyDelivery), created: true };
  }

  async getEvent(orgId: string, id: string): Promise<WebhookEvent | null> {
    const e = this.events.get(id);
    return e && e.event.orgId === orgId ? toEvent(e) : null;
  }

  async claimDueDeliveries(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    const excluded = request.excludeEndpointIds?.length ? new Set(request.excludeEndpointIds) : null;
    const leaseUntil = new Date(request.now.getTime() + request.leaseMs);
    const taken = this.due.take(request.now.getTime(), request.limit, excluded);
    return taken.map(({ id }) => {
      const d = this.deliveries.get(id) as StoredDelivery;
      d.leaseToken = request.leaseToken;
      d.nextAttemptAt = leaseUntil;
      this.schedule(d);
      const event = this.events.get(d.eventId) as StoredEvent;
      const endpoint = this.endpoints.get(d.endpointId) as EndpointRecord;
      return { delivery: copyDelivery(d), event: toEvent(event), endpoint: copyEndpoint(endpoint), leaseToken: request.leaseToken };
    });
  }

  async completeAttempt(request: CompleteAttemptRequest): Promise<boolean> {
    return this.completeNow(request);
  }

  async completeAttemptAndPause(
    request: CompleteAttemptRequest,
    pause: { endpointId: string; reason: PausedReason },
  ): Promise<{ recorded: boolean; paused: EndpointRecord | null }> {
    // Both halves run synchronously: no other call can interleave between them.
    const recorded = this.completeNow(request);
    return { recorded, paused: recorded ? this.pauseNow(pause.endpointId, pause.reason, request.now) : null };
  }

  private completeNow(request: CompleteAttemptRequest): boolean {
    const d = this.leased(request.deliveryId, request.leaseToken);
    if (!d) return false;
    const { now, attempt } = request;
    if (attempt) {
      this.attempts.set(d.id, [...(this.attempts.get(d.id) ?? []), copyAttempt(attempt)]);
      d.attemptCount += 1;
      d.lastAttemptAt = new Date(attempt.startedAt);
      d.lastStatusCode = attempt.statusCode;
      d.lastError = attempt.errorKind;
    }
    this.place(d, settleAttempt(request.next, this.endpoints.get(d.endpointId), now), now);
    return true;
  }

  async releaseLeases(deliveryIds: string[], leaseToken: string, now: Date): Promise<number> {
    let released = 0;
    for (const id of deliveryIds) {
      const d = this.leased(id, leaseToken);
      if (!d) continue;
      this.place(d, releaseLease(this.endpoints.get(d.endpointId), now), now);
      released++;
    }
    return released;
  }

  async nextDueAt(): Promise<Date | null> {
    const at = this.due.earliest();
    return at === null ? null : new Date(at);
  }

  async listDeliveries(orgId: string, query: ListDeliveriesQuery): Promise<Delivery[]> {
    const candidates = query.eventId ? this.eventDeliveries(this.events.get(query.eventId)) : this.deliveries.values();
    const out: StoredDelivery[] = [];
    for (const d of candidates) {
      if (
        d.orgId === orgId &&
        (!query.endpointId || d.endpointId === query.endpointId) &&
        (!query.eventId || d.eventId === query.eventId) &&
        (!query.status || d.status === query.status) &&
        (!query.since || d.createdAt >= query.since) &&
        (!query.until || d.createdAt < query.until) &&
        (!query.beforeId || d.id < query.beforeId)
      ) {
        out.push(d);
      }
    }
    return out.sort(newestFirst).slice(0, query.limit).map(copyDelivery);
  }

  async getDelivery(orgId: string, id: string): Promise<DeliveryWithAttempts | null> {
    const d = this.deliveries.get(id);
    if (!d || d.orgId !== orgId) return null;
    return { ...copyDelivery(d), attempts: (this.attempts.get(id) ?? []).map(copyAttempt) };
  }

  async retryDelivery(orgId: string, id: string, now: Date): Promise<Delivery | null> {
    const d = this.deliveries.get(id);
    if (!d || d.orgId !== orgId) return null;
    const endpoint = this.endpoints.get(d.endpointId);
    if (!endpoint || endpoint.deletedAt !== null) return null;
    this.requeue(d, endpoint, now);
    return copyDelivery(d);
  }

  async replayDeliveries(orgId: string, endpointId: string, query: ReplayQuery, now: Date): Promise<number> {
    const endpoint = this.liveEndpoint(orgId, endpointId);
    if (!endpoint) return 0;
    const statuses: readonly DeliveryStatus[] = replayedStatuses(query.status);
    let count = 0;
    for (const d of this.endpointDeliveries(endpointId)) {
      if (!statuses.includes(d.status)) continue;
      if (d.createdAt < query.since || (query.until && d.createdAt >= query.until)) continue;
      if (this.requeue(d, endpoint, now)) count++;
    }
    return count;
  }

  async prune(query: PruneQuery): Promise<PruneResult> {
    const result: PruneResult = { deliveries: 0, attempts: 0, events: 0 };
    for (const [id, d] of this.deliveries) {
      if (!isFinished(d.status) || d.completedAt === null || d.completedAt >= query.olderThan) continue;
      this.deliveries.delete(id);
      result.deliveries++;
      result.attempts += this.attempts.get(id)?.length ?? 0;
      this.attempts.delete(id);
    }
    // Any event from before the cut-off with no delivery left is an orphan, including events
    // that matched no endpoint at all; deleting it frees its idempotency key.
    for (const [eventId, stored] of this.events) {
      if (stored.event.createdAt >= query.olderThan) continue;
      stored.deliveryIds = stored.deliveryIds.filter((id) => this.deliveries.has(id));
      if (stored.deliveryIds.length > 0) continue;
      if (stored.event.idempotencyKey !== null) this.eventIdsByKey.delete(idempotencyKey(stored.event.orgId, stored.event.idempotencyKey));
      this.events.delete(eventId);
      result.events++;
    }
    return result;
  }

  // ---- internals ----

  private liveEndpoint(orgId: string, id: string): EndpointRecord | undefined {
    const e = this.endpoints.get(id);
    return e && e.orgId === orgId && e.deletedAt === null ? e : undefined;
  }

  private orgEndpoints(orgId: string): EndpointRecord[] {
    return [...(this.liveEndpointIds.get(orgId) ?? [])].map((id) => this.endpoints.get(id) as EndpointRecord);
  }

  private eventDeliveries(stored: StoredEvent | undefined): StoredDelivery[] {
    return (stored?.deliveryIds ?? []).flatMap((id) => this.deliveries.get(id) ?? []);
  }

  private endpointDeliveries(endpointId: string): StoredDelivery[] {
    return [...this.deliveries.values()].filter((d) => d.endpointId === endpointId);
  }

  /** The pending delivery `id` while `leaseToken` still holds it. */
  private leased(id: string, leaseToken: string): StoredDelivery | undefined {
    const d = this.deliveries.get(id);
    return d && d.leaseToken === leaseToken && d.status === 'pending' ? d : undefined;
  }

  private store(d: StoredDelivery): void {
    this.deliveries.set(d.id, d);
    this.schedule(d);
  }

  /** Whether a due-index entry is still its delivery's current schedule. */
  private scheduled(entry: DueEntry): boolean {
    const d = this.deliveries.get(entry.id);
    return d !== undefined && d.queueSeq === entry.seq && d.status === 'pending';
  }

  /** Records the delivery's current state in the due index; every change of status or due time goes through here. */
  private schedule(d: StoredDelivery): void {
    d.queueSeq = ++this.queueSeq;
    if (d.status === 'pending') this.due.add(d.endpointId, { at: (d.nextAttemptAt as Date).getTime(), id: d.id, seq: d.queueSeq });
    // Stale entries pile up when deliveries are rescheduled before they surface; drop them in
    // one pass once they outnumber the deliveries, which keeps the cost amortised.
    if (this.due.size > 2 * this.deliveries.size + 1024) {
      this.due.clear();
      for (const row of this.deliveries.values()) {
        if (row.status === 'pending') this.due.add(row.endpointId, { at: (row.nextAttemptAt as Date).getTime(), id: row.id, seq: row.queueSeq });
      }
    }
  }

  /** Moves a delivery as a transition says; every change of status or due time goes through here. */
  private place(d: StoredDelivery, placement: Placement, now: Date): void {
    d.status = placement.status;
    d.nextAttemptAt = copyDate(placement.nextAttemptAt);
    d.completedAt = copyDate(placement.completedAt);
    d.leaseToken = null;
    d.updatedAt = new Date(now);
    this.schedule(d);
  }

  private endpointChanged(endpointId: string, change: EndpointChange, now: Date): void {
    for (const d of this.endpointDeliveries(endpointId)) {
      const placement = onEndpointChange(change, d, now);
      if (placement) this.place(d, placement, now);
    }
  }

  private requeue(d: StoredDelivery, endpoint: EndpointRecord, now: Date): boolean {
    const requeued = requeue(d, endpoint, now);
    if (!requeued) return false;
    this.place(d, requeued, now);
    d.requeuedAtAttempt = requeued.requeuedAtAttempt;
    return true;
  }
}

function idempotencyKey(orgId: string, key: string): string {
  return `${orgId}\u0000${key}`;
}

const newestFirst = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

function toEvent(stored: StoredEvent): WebhookEvent {
  return { ...stored.event, data: JSON.parse(stored.dataJson) as unknown, createdAt: new Date(stored.event.createdAt) };
}

/** In-memory storage for unit tests and experiments. */
export function memoryStorage(): MemoryStorage {
  return new MemoryStorage();
}
