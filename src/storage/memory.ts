import { limitExceeded, WebhookError } from '../errors.js';
import type {
  Attempt,
  Delivery,
  DeliveryStatus,
  DeliveryWithAttempts,
  EndpointRecord,
  EndpointSecret,
  PausedReason,
  WebhookEvent,
} from '../model.js';
import { type DueEntry, GroupedDueIndex } from './due-queue.js';
import { heldDeliveryAtWrite } from './held-at-write.js';
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

/**
 * A stored delivery. Instants are epoch milliseconds: a large backlog then costs one object per
 * delivery instead of six, and Dates are made only for what leaves this file.
 */
interface DeliveryRow {
  id: string;
  orgId: string;
  eventId: string;
  endpointId: string;
  eventType: string;
  status: DeliveryStatus;
  attemptCount: number;
  requeuedAtAttempt: number;
  nextAttemptAt: number | null;
  lastAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: Delivery['lastError'];
  createdAt: number;
  updatedAt: number;
  completedAt: number | null;
  leaseToken: string | null;
  /** Bumped on every reschedule; due-queue entries carrying an older value are stale. */
  queueSeq: number;
}

/**
 * A stored endpoint. Instants are epoch milliseconds, as in `DeliveryRow`: every endpoint a
 * process keeps is then four objects (row, events, secrets, secret) where Dates made it nine,
 * which is what the garbage collector copies while young and marks while old.
 */
type EndpointRow = Omit<EndpointRecord, 'createdAt' | 'updatedAt' | 'deletedAt' | 'secrets'> & {
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
  secrets: SecretRow[];
};

interface SecretRow {
  secret: string;
  createdAt: number;
  expiresAt: number | null;
}

/**
 * A stored event. The payload is kept as JSON, as the SQL storages keep it, so every read
 * returns a fresh copy with the same JSON semantics whichever storage a host picks.
 */
interface EventRow {
  id: string;
  orgId: string;
  type: string;
  dataJson: string;
  idempotencyKey: string | null;
  createdAt: number;
}

const FINISHED: ReadonlySet<DeliveryStatus> = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * Everything in one process's memory: for unit tests, benchmarks and trying hookrelay out.
 * Nothing survives a restart. Each method runs synchronously between awaits, which makes it
 * atomic. Returned objects are copies: mutating them never changes what is stored.
 *
 * Pending deliveries sit in a heap keyed by due time, and deliveries are indexed by event and
 * by endpoint, so claiming, `nextDueAt` and per-endpoint changes stay cheap with a large backlog.
 */
export class MemoryStorage implements Storage {
  readonly kind = 'memory';
  private readonly endpoints = new Map<string, EndpointRow>();
  /**
   * Each org's live (not deleted) endpoint ids, oldest first: its length is what the per-org cap
   * counts. An array, not a Set: appending is several times cheaper than growing thousands of
   * small hash sets, and removal (a scan of one org's ids) happens only on delete.
   */
  private readonly endpointsByOrg = new Map<string, string[]>();
  private readonly events = new Map<string, EventRow>();
  private readonly eventsByKey = new Map<string, string>();
  private readonly deliveries = new Map<string, DeliveryRow>();
  /** An event has a handful of deliveries, written at once: a plain array is the cheapest index. */
  private readonly deliveriesByEvent = new Map<string, string[]>();
  private readonly deliveriesByEndpoint = new Map<string, Set<string>>();
  /** Each org's delivery ids in ascending order, so newest-first pages walk back from a cursor. */
  private readonly deliveriesByOrg = new Map<string, string[]>();
  private readonly attempts = new Map<string, Attempt[]>();
  /** Pending deliveries by due time, grouped by endpoint so claims can skip busy endpoints cheaply. */
  private readonly due = new GroupedDueIndex((entry) => this.current(entry) !== undefined);
  private queueSeq = 0;

  async migrate(): Promise<void> {}

  async close(): Promise<void> {}

  // ---- endpoints ----

  async createEndpoint(record: EndpointRecord, limits: { maxPerOrg: number }): Promise<EndpointRecord> {
    const orgIds = this.endpointsByOrg.get(record.orgId);
    if ((orgIds?.length ?? 0) >= limits.maxPerOrg) throw limitExceeded(`webhook endpoint limit reached (max ${limits.maxPerOrg})`);
    if (this.endpoints.has(record.id)) throw new WebhookError('CONFLICT', 'endpoint id already exists');
    this.endpoints.set(record.id, toEndpointRow(record));
    if (orgIds) orgIds.push(record.id);
    else this.endpointsByOrg.set(record.orgId, [record.id]);
    // What was stored is a copy, so the caller's own record is already a copy of what was stored.
    return record;
  }

  async getEndpoint(orgId: string, id: string): Promise<EndpointRecord | null> {
    const e = this.liveEndpoint(orgId, id);
    return e ? toEndpointRecord(e) : null;
  }

  async listEndpoints(orgId: string, query: ListEndpointsQuery): Promise<EndpointRecord[]> {
    return this.orgEndpoints(orgId)
      .filter((e) => !query.beforeId || e.id < query.beforeId)
      .sort((a, b) => (a.id < b.id ? 1 : -1))
      .slice(0, query.limit)
      .map(toEndpointRecord);
  }

  async listSubscribedEndpoints(orgId: string, eventType: string): Promise<EndpointRecord[]> {
    return this.orgEndpoints(orgId)
      .filter((e) => e.events.includes(eventType))
      .map(toEndpointRecord);
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
    e.updatedAt = now.getTime();
    if (wasStatus === 'active' && e.status === 'paused') this.holdDeliveries(e.id, now);
    if (wasStatus === 'paused' && e.status === 'active') this.releaseHeld(e.id, now);
    return toEndpointRecord(e);
  }

  async pauseEndpoint(id: string, reason: PausedReason, now: Date): Promise<EndpointRecord | null> {
    return this.pauseNow(id, reason, now);
  }

  // Synchronous, so completeAttemptAndPause can run it with completeNow in one turn.
  private pauseNow(id: string, reason: PausedReason, now: Date): EndpointRecord | null {
    const e = this.endpoints.get(id);
    if (!e || e.deletedAt !== null || e.status !== 'active') return null;
    e.status = 'paused';
    e.pausedReason = reason;
    e.updatedAt = now.getTime();
    this.holdDeliveries(id, now);
    return toEndpointRecord(e);
  }

  async deleteEndpoint(orgId: string, id: string, now: Date): Promise<boolean> {
    const e = this.liveEndpoint(orgId, id);
    if (!e) return false;
    e.deletedAt = now.getTime();
    e.updatedAt = now.getTime();
    const orgIds = this.endpointsByOrg.get(orgId) ?? [];
    const at = orgIds.indexOf(id);
    if (at !== -1) orgIds.splice(at, 1);
    for (const d of this.endpointDeliveries(id)) {
      // An attempt in flight keeps its delivery pending; completeAttempt records it and cancels.
      if (d.status === 'held' || (d.status === 'pending' && !underLiveLease(d, now))) this.finish(d, 'cancelled', now);
    }
    return true;
  }

  async rotateSecret(orgId: string, id: string, secret: EndpointSecret, previousExpiresAt: Date, now: Date): Promise<EndpointRecord | null> {
    const e = this.liveEndpoint(orgId, id);
    if (!e) return null;
    const kept = e.secrets
      .map((s) => (s.expiresAt === null ? { ...s, expiresAt: previousExpiresAt.getTime() } : s))
      .filter((s) => (s.expiresAt as number) > now.getTime());
    e.secrets = [toSecretRow(secret), ...kept];
    e.updatedAt = now.getTime();
    return toEndpointRecord(e);
  }

  // ---- events and deliveries ----

  async insertEvent(write: NewEventWrite, options: WriteOptions = {}): Promise<InsertEventResult> {
    if (options.transaction !== undefined) {
      throw new WebhookError('BAD_REQUEST', 'memory storage cannot join a host transaction; use a SQL storage for transactional emit');
    }
    const { event } = write;
    const keyIndex = event.idempotencyKey === null ? null : idempotencyIndex(event.orgId, event.idempotencyKey);
    if (keyIndex !== null) {
      const existingId = this.eventsByKey.get(keyIndex);
      if (existingId !== undefined) {
        const existing = this.events.get(existingId) as EventRow;
        return { event: toEvent(existing), deliveries: this.eventDeliveries(existingId).map(toDelivery), created: false };
      }
    }
    // Check every id before writing anything, so a refused write leaves no trace.
    if (this.events.has(event.id)) throw new WebhookError('CONFLICT', 'event id already exists');
    const ids = new Set<string>();
    for (const d of write.deliveries) {
      if (this.deliveries.has(d.id) || ids.has(d.id)) throw new WebhookError('CONFLICT', 'delivery id already exists');
      ids.add(d.id);
    }
    const eventRow = toEventRow(event);
    if (keyIndex !== null) this.eventsByKey.set(keyIndex, event.id);
    this.events.set(event.id, eventRow);
    const rows = write.deliveries.map((d) => toDeliveryRow(heldDeliveryAtWrite(d, this.endpoints.get(d.endpointId))));
    if (rows.length) this.deliveriesByEvent.set(event.id, rows.map((row) => row.id));
    for (const row of rows) {
      this.deliveries.set(row.id, row);
      addToIndex(this.deliveriesByEndpoint, row.endpointId, row.id);
      this.addToOrgOrder(row);
      this.schedule(row);
    }
    return { event: toEvent(eventRow), deliveries: rows.map(toDelivery), created: true };
  }

  async getEvent(orgId: string, id: string): Promise<WebhookEvent | null> {
    const e = this.events.get(id);
    return e && e.orgId === orgId ? toEvent(e) : null;
  }

  async claimDueDeliveries(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    const now = request.now.getTime();
    const excluded = request.excludeEndpointIds?.length ? new Set(request.excludeEndpointIds) : null;
    const picked = this.due.take(now, request.limit, excluded).map((entry) => this.deliveries.get(entry.id) as DeliveryRow);
    // Rescheduled only after the loop: with a zero lease a claimed delivery would be due again at once.
    const leaseUntil = now + request.leaseMs;
    // One copy per event and endpoint per batch: a fan-out or a busy endpoint appears many times.
    const events = new Map<string, WebhookEvent>();
    const endpoints = new Map<string, EndpointRecord>();
    return picked.map((d) => {
      d.leaseToken = request.leaseToken;
      d.nextAttemptAt = leaseUntil;
      this.schedule(d);
      let event = events.get(d.eventId);
      if (!event) events.set(d.eventId, (event = toEvent(this.events.get(d.eventId) as EventRow)));
      let endpoint = endpoints.get(d.endpointId);
      if (!endpoint) endpoints.set(d.endpointId, (endpoint = toEndpointRecord(this.endpoints.get(d.endpointId) as EndpointRow)));
      return { delivery: toDelivery(d), event, endpoint, leaseToken: request.leaseToken };
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
    const d = this.deliveries.get(request.deliveryId);
    if (!d || d.leaseToken !== request.leaseToken || d.status !== 'pending') return false;
    const { now, next, attempt } = request;
    if (attempt) {
      const list = this.attempts.get(d.id) ?? [];
      list.push(copyAttempt(attempt));
      this.attempts.set(d.id, list);
      d.attemptCount += 1;
      d.lastAttemptAt = attempt.startedAt.getTime();
      d.lastStatusCode = attempt.statusCode;
      d.lastError = attempt.errorKind;
    }
    d.leaseToken = null;
    if (FINISHED.has(next.status)) {
      this.finish(d, next.status, now);
      return true;
    }
    // The endpoint may have been paused, resumed or deleted while the attempt was in flight:
    // its current state, not the one the worker saw, decides between pending, held and cancelled.
    const endpoint = this.endpoints.get(d.endpointId);
    if (!endpoint || endpoint.deletedAt !== null) this.finish(d, 'cancelled', now);
    else if (endpoint.status === 'paused') this.hold(d, now);
    else this.makePending(d, next.status === 'pending' ? next.nextAttemptAt.getTime() : now.getTime(), now);
    return true;
  }

  async releaseLeases(deliveryIds: string[], leaseToken: string, now: Date): Promise<number> {
    let released = 0;
    for (const id of deliveryIds) {
      const d = this.deliveries.get(id);
      if (!d || d.leaseToken !== leaseToken || d.status !== 'pending') continue;
      d.leaseToken = null;
      const endpoint = this.endpoints.get(d.endpointId);
      if (!endpoint || endpoint.deletedAt !== null) this.finish(d, 'cancelled', now);
      else if (endpoint.status === 'paused') this.hold(d, now);
      else this.makePending(d, now.getTime(), now);
      released++;
    }
    return released;
  }

  async nextDueAt(): Promise<Date | null> {
    const at = this.due.earliest();
    return at === null ? null : new Date(at);
  }

  async listDeliveries(orgId: string, query: ListDeliveriesQuery): Promise<Delivery[]> {
    const since = query.since?.getTime();
    const until = query.until?.getTime();
    const matches = (d: DeliveryRow): boolean =>
      d.orgId === orgId &&
      (!query.endpointId || d.endpointId === query.endpointId) &&
      (!query.eventId || d.eventId === query.eventId) &&
      (!query.status || d.status === query.status) &&
      (since === undefined || d.createdAt >= since) &&
      (until === undefined || d.createdAt < until) &&
      (!query.beforeId || d.id < query.beforeId);
    if (query.eventId) {
      // An event has a handful of deliveries: filter and sort them directly.
      return this.eventDeliveries(query.eventId)
        .filter(matches)
        .sort((a, b) => (a.id < b.id ? 1 : -1))
        .slice(0, query.limit)
        .map(toDelivery);
    }
    // Walk the org's ids newest first from the cursor, stopping once the page is full.
    const order = this.deliveriesByOrg.get(orgId) ?? [];
    const out: Delivery[] = [];
    for (let i = query.beforeId ? lowerBound(order, query.beforeId) - 1 : order.length - 1; i >= 0 && out.length < query.limit; i--) {
      const d = this.deliveries.get(order[i] as string) as DeliveryRow;
      if (matches(d)) out.push(toDelivery(d));
    }
    return out;
  }

  async getDelivery(orgId: string, id: string): Promise<DeliveryWithAttempts | null> {
    const d = this.deliveries.get(id);
    if (!d || d.orgId !== orgId) return null;
    return { ...toDelivery(d), attempts: (this.attempts.get(id) ?? []).map(copyAttempt) };
  }

  async retryDelivery(orgId: string, id: string, now: Date): Promise<Delivery | null> {
    const d = this.deliveries.get(id);
    if (!d || d.orgId !== orgId) return null;
    const endpoint = this.endpoints.get(d.endpointId);
    if (!endpoint || endpoint.deletedAt !== null) return null;
    this.requeue(d, endpoint, now);
    return toDelivery(d);
  }

  async replayDeliveries(orgId: string, endpointId: string, query: ReplayQuery, now: Date): Promise<number> {
    const endpoint = this.liveEndpoint(orgId, endpointId);
    if (!endpoint) return 0;
    let count = 0;
    for (const d of this.endpointDeliveries(endpointId)) {
      if (!FINISHED.has(d.status)) continue;
      if (query.status ? d.status !== query.status : d.status === 'cancelled') continue;
      if (d.createdAt < query.since.getTime()) continue;
      if (query.until && d.createdAt >= query.until.getTime()) continue;
      this.requeue(d, endpoint, now);
      count++;
    }
    return count;
  }

  async prune(query: PruneQuery): Promise<PruneResult> {
    const result: PruneResult = { deliveries: 0, attempts: 0, events: 0 };
    const olderThan = query.olderThan.getTime();
    const prunedOrgs = new Set<string>();
    for (const [id, d] of this.deliveries) {
      if (FINISHED.has(d.status) && d.completedAt !== null && d.completedAt < olderThan) {
        this.deliveries.delete(id);
        const siblings = (this.deliveriesByEvent.get(d.eventId) ?? []).filter((other) => other !== id);
        if (siblings.length) this.deliveriesByEvent.set(d.eventId, siblings);
        else this.deliveriesByEvent.delete(d.eventId);
        removeFromIndex(this.deliveriesByEndpoint, d.endpointId, id);
        prunedOrgs.add(d.orgId);
        result.deliveries++;
        result.attempts += this.attempts.get(id)?.length ?? 0;
        this.attempts.delete(id);
      }
    }
    for (const orgId of prunedOrgs) {
      const kept = (this.deliveriesByOrg.get(orgId) ?? []).filter((id) => this.deliveries.has(id));
      if (kept.length) this.deliveriesByOrg.set(orgId, kept);
      else this.deliveriesByOrg.delete(orgId);
    }
    // Any event from before the cut-off with no delivery left is an orphan, including events
    // that matched no endpoint at all; deleting it frees its idempotency key.
    for (const [eventId, e] of this.events) {
      if (e.createdAt >= olderThan || this.deliveriesByEvent.has(eventId)) continue;
      if (e.idempotencyKey !== null) this.eventsByKey.delete(idempotencyIndex(e.orgId, e.idempotencyKey));
      this.events.delete(eventId);
      result.events++;
    }
    return result;
  }

  // ---- internals ----

  private liveEndpoint(orgId: string, id: string): EndpointRow | undefined {
    const e = this.endpoints.get(id);
    return e && e.orgId === orgId && e.deletedAt === null ? e : undefined;
  }

  private orgEndpoints(orgId: string): EndpointRow[] {
    const out: EndpointRow[] = [];
    for (const id of this.endpointsByOrg.get(orgId) ?? []) {
      const e = this.endpoints.get(id);
      if (e) out.push(e);
    }
    return out;
  }

  private addToOrgOrder(d: DeliveryRow): void {
    const order = this.deliveriesByOrg.get(d.orgId);
    if (!order) this.deliveriesByOrg.set(d.orgId, [d.id]);
    // Ids are minted in order, but concurrent emits may write them slightly out of order.
    else if (order.length === 0 || (order[order.length - 1] as string) < d.id) order.push(d.id);
    else order.splice(lowerBound(order, d.id), 0, d.id);
  }

  private eventDeliveries(eventId: string): DeliveryRow[] {
    return (this.deliveriesByEvent.get(eventId) ?? []).map((id) => this.deliveries.get(id) as DeliveryRow);
  }

  private endpointDeliveries(endpointId: string): DeliveryRow[] {
    return [...(this.deliveriesByEndpoint.get(endpointId) ?? [])].map((id) => this.deliveries.get(id) as DeliveryRow);
  }

  /** The delivery a due-queue entry points at, if the entry is still its current schedule. */
  private current(entry: DueEntry): DeliveryRow | undefined {
    const d = this.deliveries.get(entry.id);
    return d && d.queueSeq === entry.seq && d.status === 'pending' ? d : undefined;
  }

  /** Records the delivery's current state in the due queue; every change of status or due time goes through here. */
  private schedule(d: DeliveryRow): void {
    d.queueSeq = ++this.queueSeq;
    if (d.status === 'pending' && d.nextAttemptAt !== null) this.due.add(d.endpointId, { at: d.nextAttemptAt, id: d.id, seq: d.queueSeq });
    // Stale entries pile up when deliveries are rescheduled before they surface; drop them in
    // one pass once they outnumber the deliveries, which keeps the cost amortised.
    if (this.due.size > 2 * this.deliveries.size + 1024) {
      this.due.clear();
      for (const row of this.deliveries.values()) {
        if (row.status === 'pending' && row.nextAttemptAt !== null) this.due.add(row.endpointId, { at: row.nextAttemptAt, id: row.id, seq: row.queueSeq });
      }
    }
  }

  private makePending(d: DeliveryRow, dueAt: number, now: Date): void {
    d.status = 'pending';
    d.nextAttemptAt = dueAt;
    d.completedAt = null;
    d.updatedAt = now.getTime();
    this.schedule(d);
  }

  private hold(d: DeliveryRow, now: Date): void {
    d.status = 'held';
    d.nextAttemptAt = null;
    d.completedAt = null;
    d.updatedAt = now.getTime();
    this.schedule(d);
  }

  private finish(d: DeliveryRow, status: DeliveryStatus, now: Date): void {
    d.status = status;
    d.nextAttemptAt = null;
    d.leaseToken = null;
    d.completedAt = now.getTime();
    d.updatedAt = now.getTime();
    this.schedule(d);
  }

  private holdDeliveries(endpointId: string, now: Date): void {
    for (const d of this.endpointDeliveries(endpointId)) {
      // An attempt in flight keeps its delivery pending; completeAttempt will hold it.
      if (d.status === 'pending' && !underLiveLease(d, now)) {
        d.leaseToken = null;
        this.hold(d, now);
      }
    }
  }

  private releaseHeld(endpointId: string, now: Date): void {
    for (const d of this.endpointDeliveries(endpointId)) {
      if (d.status === 'held') this.makePending(d, now.getTime(), now);
    }
  }

  private requeue(d: DeliveryRow, endpoint: EndpointRow, now: Date): void {
    if (!FINISHED.has(d.status)) return;
    d.leaseToken = null;
    // The retry schedule restarts here (see Delivery.requeuedAtAttempt).
    d.requeuedAtAttempt = d.attemptCount;
    if (endpoint.status === 'paused') this.hold(d, now);
    else this.makePending(d, now.getTime(), now);
  }
}

/** True while an attempt may be in flight: leased, and the lease has not run out at `now`. */
function underLiveLease(d: DeliveryRow, now: Date): boolean {
  return d.leaseToken !== null && d.nextAttemptAt !== null && d.nextAttemptAt > now.getTime();
}

/** Index of the first element of ascending `sorted` that is not below `value`. */
function lowerBound(sorted: readonly string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as string) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function idempotencyIndex(orgId: string, key: string): string {
  return `${orgId}\u0000${key}`;
}

function addToIndex(index: Map<string, Set<string>>, key: string, id: string): void {
  const set = index.get(key);
  if (set) set.add(id);
  else index.set(key, new Set([id]));
}

function removeFromIndex(index: Map<string, Set<string>>, key: string, id: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(id);
  if (set.size === 0) index.delete(key);
}

const time = (d: Date | null): number | null => (d === null ? null : d.getTime());
const date = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

// Hand-written copies of the flat records: structuredClone costs several times more on the claim path.

function toDeliveryRow(d: Delivery): DeliveryRow {
  return {
    id: d.id,
    orgId: d.orgId,
    eventId: d.eventId,
    endpointId: d.endpointId,
    eventType: d.eventType,
    status: d.status,
    attemptCount: d.attemptCount,
    requeuedAtAttempt: d.requeuedAtAttempt,
    nextAttemptAt: time(d.nextAttemptAt),
    lastAttemptAt: time(d.lastAttemptAt),
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    createdAt: d.createdAt.getTime(),
    updatedAt: d.updatedAt.getTime(),
    completedAt: time(d.completedAt),
    leaseToken: null,
    queueSeq: 0,
  };
}

function toDelivery(d: DeliveryRow): Delivery {
  return {
    id: d.id,
    orgId: d.orgId,
    eventId: d.eventId,
    endpointId: d.endpointId,
    eventType: d.eventType,
    status: d.status,
    attemptCount: d.attemptCount,
    requeuedAtAttempt: d.requeuedAtAttempt,
    nextAttemptAt: date(d.nextAttemptAt),
    lastAttemptAt: date(d.lastAttemptAt),
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    createdAt: new Date(d.createdAt),
    updatedAt: new Date(d.updatedAt),
    completedAt: date(d.completedAt),
  };
}

function toEventRow(e: WebhookEvent): EventRow {
  return { id: e.id, orgId: e.orgId, type: e.type, dataJson: JSON.stringify(e.data) ?? 'null', idempotencyKey: e.idempotencyKey, createdAt: e.createdAt.getTime() };
}

function toEvent(e: EventRow): WebhookEvent {
  return { id: e.id, orgId: e.orgId, type: e.type, data: JSON.parse(e.dataJson) as unknown, idempotencyKey: e.idempotencyKey, createdAt: new Date(e.createdAt) };
}

function toSecretRow(s: EndpointSecret): SecretRow {
  return { secret: s.secret, createdAt: s.createdAt.getTime(), expiresAt: time(s.expiresAt) };
}

function toSecret(s: SecretRow): EndpointSecret {
  return { secret: s.secret, createdAt: new Date(s.createdAt), expiresAt: date(s.expiresAt) };
}

function toEndpointRow(e: EndpointRecord): EndpointRow {
  return {
    id: e.id,
    orgId: e.orgId,
    url: e.url,
    events: [...e.events],
    description: e.description,
    apiVersion: e.apiVersion,
    // Filter values are strings, numbers and booleans: a shallow copy is a full one.
    filter: e.filter ? { ...e.filter } : null,
    status: e.status,
    pausedReason: e.pausedReason,
    createdAt: e.createdAt.getTime(),
    updatedAt: e.updatedAt.getTime(),
    deletedAt: time(e.deletedAt),
    secrets: e.secrets.map(toSecretRow),
  };
}

function toEndpointRecord(e: EndpointRow): EndpointRecord {
  return {
    id: e.id,
    orgId: e.orgId,
    url: e.url,
    events: [...e.events],
    description: e.description,
    apiVersion: e.apiVersion,
    filter: e.filter ? { ...e.filter } : null,
    status: e.status,
    pausedReason: e.pausedReason,
    createdAt: new Date(e.createdAt),
    updatedAt: new Date(e.updatedAt),
    deletedAt: date(e.deletedAt),
    secrets: e.secrets.map(toSecret),
  };
}

function copyAttempt(a: Attempt): Attempt {
  return { ...a, startedAt: new Date(a.startedAt) };
}

/** In-memory storage for unit tests and experiments. */
export function memoryStorage(): MemoryStorage {
  return new MemoryStorage();
}
