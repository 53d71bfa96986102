import { type ExpressionBuilder, sql } from 'kysely';
import { limitExceeded, WebhookError } from '../../src/errors.js';
import { heldDeliveryAtWrite } from '../../src/storage/held-at-write.js';
import type { Attempt, Delivery, DeliveryStatus, DeliveryWithAttempts, EndpointRecord, EndpointSecret, PausedReason, WebhookEvent } from '../../src/model.js';
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
} from '../../src/storage/storage.js';
import type { Db, SqlDialect, TableRef } from './dialect.js';
import { HotQueries } from './hot-queries.js';
import { runMigrations } from './migrate.js';
import { SharedRounds, takeDistinct } from './shared-rounds.js';
import {
  attemptFromRow,
  attemptToRow,
  deliveryFromRow,
  deliveryToRow,
  encodeSecrets,
  endpointFromRow,
  endpointToRow,
  eventFromRow,
  eventToRow,
  type EndpointRow,
  type EventRow,
  type NewEventRow,
} from './rows.js';
import type { HookrelayDatabase, TableName } from './schema.js';
import { asStorageError, type RetryPolicy, withTransientRetry } from './transient.js';

const FINISHED: DeliveryStatus[] = ['succeeded', 'failed', 'cancelled'];
/** Emits within this window share one NOTIFY. */
const NOTIFY_COALESCE_MS = 5;
/** Rows per multi-row INSERT: keeps every statement far below SQLite's bound-parameter limit. */
const INSERT_CHUNK = 500;

/** Cross-process wake-ups (Postgres LISTEN/NOTIFY). */
export interface Notifier {
  subscribe(listener: () => void): () => void;
  close(): Promise<void>;
}

export interface SqlStorageConfig {
  dialect: SqlDialect;
  /** The kysely instance every statement goes through. */
  db: Db;
  /** Postgres schema holding the tables; undefined for the connection's default. */
  schema?: string | undefined;
  /** Whether `close()` destroys `db` (false when the host passed its own connection or pool). */
  ownsDb: boolean;
  retry?: RetryPolicy | undefined;
  notifier?: Notifier | undefined;
  /** The channel `insertEventAtomic` notifies on (Postgres). */
  notifyChannel?: string | undefined;
  /** Rows per prune transaction (default 1000); tests lower it to cross chunk boundaries. */
  pruneChunk?: number | undefined;
}

/**
 * The Storage contract over kysely, shared by SQLite and Postgres. Engine differences live in
 * the `SqlDialect`; every query here is plain SQL both engines run the same way.
 *
 * Transient failures are retried (see `withTransientRetry`). Each retried unit is either one
 * whole transaction (which rolled back) or a write made idempotent by its ids, so a retry never
 * doubles an event, an endpoint or an attempt.
 */
export class SqlStorage implements Storage {
  readonly kind: string;
  /** Present only where the engine can wake other processes (Postgres). */
  readonly subscribe?: (listener: () => void) => () => void;

  private readonly db: Db;
  private readonly dialect: SqlDialect;
  private readonly schema: string | undefined;
  private readonly ownsDb: boolean;
  private readonly retryPolicy: RetryPolicy | undefined;
  private readonly notifier: Notifier | undefined;
  private closed = false;
  private readonly hot: HotQueries;
  private readonly notifyChannel: string | null;
  private lastNotifyAt = 0;
  private trailingNotify: NodeJS.Timeout | null = null;
  private readonly pruneChunk: number;

  constructor(config: SqlStorageConfig) {
    this.dialect = config.dialect;
    this.kind = config.dialect.kind;
    this.schema = config.schema;
    this.db = config.schema ? config.db.withSchema(config.schema) : config.db;
    this.ownsDb = config.ownsDb;
    this.retryPolicy = config.retry;
    this.notifier = config.notifier;
    this.hot = new HotQueries((name) => this.qualified(name), config.dialect.numberedParameters);
    this.notifyChannel = config.notifyChannel ?? null;
    this.pruneChunk = config.pruneChunk ?? 1000;
    if (config.notifier) {
      const notifier = config.notifier;
      this.subscribe = (listener) => notifier.subscribe(listener);
    }
  }

  async migrate(): Promise<void> {
    await this.run(() => runMigrations(this.db, this.dialect, (name) => this.qualified(name)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.trailingNotify) clearTimeout(this.trailingNotify);
    this.trailingNotify = null;
    await this.notifier?.close();
    if (this.ownsDb) await this.db.destroy();
  }

  // ---- endpoints ----

  async createEndpoint(record: EndpointRecord, limits: { maxPerOrg: number }): Promise<EndpointRecord> {
    return this.write(async (tx) => {
      await this.dialect.lockOrg(tx, record.orgId);
      // A retry of a create whose commit the client never saw finds its own row: the same endpoint, not a second one.
      const existing = await tx.selectFrom('hookrelay_endpoints').selectAll().where('id', '=', record.id).executeTakeFirst();
      if (existing) {
        if (existing.org_id === record.orgId && Number(existing.created_at) === record.createdAt.getTime()) return endpointFromRow(existing);
        throw new WebhookError('CONFLICT', 'endpoint id already exists');
      }
      // Served by (org_id, id); the org lock makes count-then-insert one step across processes.
      const { count } = await tx
        .selectFrom('hookrelay_endpoints')
        .select((eb) => eb.fn.countAll().as('count'))
        .where('org_id', '=', record.orgId)
        .where('deleted_at', 'is', null)
        .executeTakeFirstOrThrow();
      if (Number(count) >= limits.maxPerOrg) throw limitExceeded(`webhook endpoint limit reached (max ${limits.maxPerOrg})`);
      await tx.insertInto('hookrelay_endpoints').values(endpointToRow(record)).execute();
      return structuredClone(record);
    });
  }

  async getEndpoint(orgId: string, id: string): Promise<EndpointRecord | null> {
    return this.run(async () => {
      const row = await this.liveEndpointQuery(this.db, orgId, id).executeTakeFirst();
      return row ? endpointFromRow(row) : null;
    });
  }

  async listEndpoints(orgId: string, query: ListEndpointsQuery): Promise<EndpointRecord[]> {
    return this.run(async () => {
      const rows = await this.db
        .selectFrom('hookrelay_endpoints')
        .selectAll()
        .where('org_id', '=', orgId)
        .where('deleted_at', 'is', null)
        .$if(query.beforeId !== undefined, (qb) => qb.where('id', '<', query.beforeId as string))
        .orderBy('id', 'desc')
        .limit(query.limit)
        .execute();
      return rows.map(endpointFromRow);
    });
  }

  async listSubscribedEndpoints(orgId: string, eventType: string): Promise<EndpointRecord[]> {
    // An org holds a bounded number of endpoints (the per-org cap), so the (org_id, id) index
    // plus a filter on the decoded event list is cheaper than a subscription table to keep in sync.
    const rows = this.dialect.dataModifyingCtes
      ? await this.endpointReader.read(orgId)
      : await this.run(async () => (await this.hot.liveEndpoints(this.db, orgId)).rows);
    return rows.map(endpointFromRow).filter((e) => e.events.includes(eventType));
  }

  async updateEndpoint(orgId: string, id: string, patch: EndpointPatch, now: Date): Promise<EndpointRecord | null> {
    return this.write(async (tx) => {
      const row = await this.liveEndpointQuery(tx, orgId, id)
        .$if(this.dialect.supportsRowLocks, (qb) => qb.forUpdate())
        .executeTakeFirst();
      if (!row) return null;
      const e = endpointFromRow(row);
      const wasStatus = e.status;
      if (patch.url !== undefined) e.url = patch.url;
      if (patch.events !== undefined) e.events = [...patch.events];
      if (patch.description !== undefined) e.description = patch.description;
      if (patch.filter !== undefined) e.filter = patch.filter ? { ...patch.filter } : null;
      if (patch.status !== undefined) e.status = patch.status;
      if (patch.pausedReason !== undefined) e.pausedReason = patch.pausedReason;
      if (e.status === 'active') e.pausedReason = null;
      e.updatedAt = now;
      const { secrets: _secrets, id: _id, org_id: _org, created_at: _created, ...changes } = endpointToRow(e);
      await tx.updateTable('hookrelay_endpoints').set(changes).where('id', '=', id).execute();
      if (wasStatus === 'active' && e.status === 'paused') await this.holdDeliveries(tx, id, now);
      if (wasStatus === 'paused' && e.status === 'active') {
        const released = await this.releaseHeld(tx, id, now);
        if (released > 0) await this.dialect.notify?.(tx);
      }
      return e;
    });
  }

  async pauseEndpoint(id: string, reason: PausedReason, now: Date): Promise<EndpointRecord | null> {
    return this.write((tx) => this.pauseIn(tx, id, reason, now));
  }

  private async pauseIn(tx: Db, id: string, reason: PausedReason, now: Date): Promise<EndpointRecord | null> {
    // The status guard in the WHERE makes the change once: a racing caller updates no row.
    const row = await tx
      .updateTable('hookrelay_endpoints')
      .set({ status: 'paused', paused_reason: reason, updated_at: now.getTime() })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .where('status', '=', 'active')
      .returningAll()
      .executeTakeFirst();
    if (!row) return null;
    await this.holdDeliveries(tx, id, now);
    return endpointFromRow(row);
  }

  async deleteEndpoint(orgId: string, id: string, now: Date): Promise<boolean> {
    return this.write(async (tx) => {
      const result = await tx
        .updateTable('hookrelay_endpoints')
        .set({ deleted_at: now.getTime(), updated_at: now.getTime() })
        .where('id', '=', id)
        .where('org_id', '=', orgId)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      // Served by (endpoint_id, status). A delivery under a live lease has an attempt in flight:
      // it stays pending, and its completeAttempt finds the endpoint deleted and cancels it.
      const nowMs = now.getTime();
      await tx
        .updateTable('hookrelay_deliveries')
        .set({ status: 'cancelled', next_attempt_at: null, lease_token: null, completed_at: nowMs, updated_at: nowMs })
        .where('endpoint_id', '=', id)
        .where((eb) => eb.or([eb('status', '=', 'held'), eb.and([eb('status', '=', 'pending'), notUnderLiveLease(eb, nowMs)])]))
        .execute();
      return true;
    });
  }

  async rotateSecret(orgId: string, id: string, secret: EndpointSecret, previousExpiresAt: Date, now: Date): Promise<EndpointRecord | null> {
    return this.write(async (tx) => {
      const row = await this.liveEndpointQuery(tx, orgId, id)
        .$if(this.dialect.supportsRowLocks, (qb) => qb.forUpdate())
        .executeTakeFirst();
      if (!row) return null;
      const e = endpointFromRow(row);
      // A retry of a rotation that committed unseen finds its secret already current: nothing to do.
      if (e.secrets[0]?.secret === secret.secret && e.secrets[0].expiresAt === null) return e;
      const kept = e.secrets
        .map((s) => (s.expiresAt === null ? { ...s, expiresAt: previousExpiresAt } : s))
        .filter((s) => (s.expiresAt as Date).getTime() > now.getTime());
      e.secrets = [structuredClone(secret), ...kept];
      e.updatedAt = now;
      await tx
        .updateTable('hookrelay_endpoints')
        .set({ secrets: encodeSecrets(e.secrets), updated_at: now.getTime() })
        .where('id', '=', id)
        .execute();
      return e;
    });
  }

  // ---- events and deliveries ----

  async insertEvent(write: NewEventWrite, options: WriteOptions = {}): Promise<InsertEventResult> {
    if (options.transaction !== undefined) {
      // The host owns this transaction: no retry (a failed statement aborted the host's work
      // too), and no commit here. The NOTIFY inside it fires only if the host commits.
      const tx = this.hostTransaction(options.transaction);
      try {
        // Postgres writes the event and its deliveries in one statement; SQLite takes several,
        // so a savepoint keeps a failure from leaving the event without its deliveries in a host
        // transaction that catches the error and commits anyway.
        if (this.dialect.dataModifyingCtes) return await this.insertEventIn(tx, write, true);
        return await this.hot.inSavepoint(tx, () => this.insertEventIn(tx, write, true));
      } catch (error) {
        throw asStorageError(error, this.dialect);
      }
    }
    // One atomic statement needs no transaction of its own (and so no BEGIN/COMMIT round trips);
    // emits arriving together share one.
    // A write with held deliveries re-reads its endpoints under a lock (see heldAtWrite), which
    // needs a transaction; such writes are rare (paused endpoints only) and skip the batcher.
    const hasHeld = write.deliveries.some((d) => d.status === 'held');
    if (this.dialect.dataModifyingCtes && !hasHeld) return this.eventBatcher.insert(write);
    return this.write((tx) => this.insertEventIn(tx, write));
  }

  async getEvent(orgId: string, id: string): Promise<WebhookEvent | null> {
    return this.run(async () => {
      const row = await this.db.selectFrom('hookrelay_events').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
      return row ? eventFromRow(row) : null;
    });
  }

  async claimDueDeliveries(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    if (request.limit <= 0) return [];
    // A claim retried after a commit the client never saw leaves that first batch leased until
    // its lease runs out: delayed, never lost or sent twice at once.
    const rows = await this.run(() => this.dialect.claim(this.db, request, this.tableRef));
    if (rows.length === 0) return [];
    const eventIds = [...new Set(rows.map((r) => r.event_id))];
    const endpointIds = [...new Set(rows.map((r) => r.endpoint_id))];
    const [events, endpoints] = await this.run(() =>
      Promise.all([
        this.hot.byIds<EventRow>(this.db, 'hookrelay_events', eventIds).then((r) => r.rows),
        this.hot.byIds<EndpointRow>(this.db, 'hookrelay_endpoints', endpointIds).then((r) => r.rows),
      ]),
    );
    const eventById = new Map(events.map((e) => [e.id, eventFromRow(e)]));
    const endpointById = new Map(endpoints.map((e) => [e.id, endpointFromRow(e)]));
    const claimed: ClaimedDelivery[] = [];
    const orphans: string[] = [];
    // Each claim gets objects of its own; the first user of a row's object takes it as it is,
    // only later ones a copy (an event usually has one delivery in a batch, so is never cloned).
    const handedOut = new Set<object>();
    const own = <T extends object>(value: T): T => {
      if (!handedOut.has(value)) {
        handedOut.add(value);
        return value;
      }
      return structuredClone(value);
    };
    for (const row of rows) {
      const event = eventById.get(row.event_id);
      const endpoint = endpointById.get(row.endpoint_id);
      if (!event || !endpoint) {
        orphans.push(row.id);
        continue;
      }
      claimed.push({ delivery: deliveryFromRow(row), event: own(event), endpoint: own(endpoint), leaseToken: request.leaseToken });
    }
    // Its event or endpoint row was removed behind our back (hookrelay itself never does that):
    // nothing can be sent, so cancel it rather than leave it to be claimed again every lease.
    for (const deliveryId of orphans) {
      await this.write((tx) => this.completeIn(tx, { deliveryId, leaseToken: request.leaseToken, attempt: null, next: { status: 'cancelled' }, now: request.now }));
    }
    return claimed;
  }

  async completeAttempt(request: CompleteAttemptRequest): Promise<boolean> {
    const { deliveryId, leaseToken, attempt, next, now } = request;
    const nowMs = now.getTime();
    if (attempt && FINISHED.includes(next.status) && this.dialect.dataModifyingCtes) {
      // The common case on Postgres: one statement, no transaction round trips, and attempts
      // finishing together share it.
      return this.finishedBatcher.settle({ deliveryId, leaseToken, status: next.status, nowMs, attempt });
    }
    return this.write((tx) => this.completeIn(tx, request));
  }

  async completeAttemptAndPause(
    request: CompleteAttemptRequest,
    pause: { endpointId: string; reason: PausedReason },
  ): Promise<{ recorded: boolean; paused: EndpointRecord | null }> {
    return this.write(async (tx) => {
      const recorded = await this.completeIn(tx, request);
      return { recorded, paused: recorded ? await this.pauseIn(tx, pause.endpointId, pause.reason, request.now) : null };
    });
  }

  private async completeIn(tx: Db, request: CompleteAttemptRequest): Promise<boolean> {
    const { deliveryId, leaseToken, attempt, next, now } = request;
    const nowMs = now.getTime();
    let status: DeliveryStatus = next.status;
    let nextAttemptAt: number | null = null;
    if (!FINISHED.includes(next.status)) {
      // The endpoint's state now, not the one the worker saw, decides: it may have been
      // paused, resumed or deleted while the attempt was in flight. FOR SHARE orders us with
      // a concurrent pause or delete (both lock the endpoint row first): either we see it
      // paused, or its hold finds our delivery no longer leased.
      const endpoint = await tx
        .selectFrom('hookrelay_deliveries as d')
        .innerJoin('hookrelay_endpoints as e', 'e.id', 'd.endpoint_id')
        .select(['e.status', 'e.deleted_at', 'e.id'])
        .where('d.id', '=', deliveryId)
        .$if(this.dialect.supportsRowLocks, (qb) => qb.forShare('e'))
        .executeTakeFirst();
      if (!endpoint || endpoint.deleted_at !== null) status = 'cancelled';
      else if (endpoint.status === 'paused') status = 'held';
      else {
        status = 'pending';
        nextAttemptAt = next.status === 'pending' ? next.nextAttemptAt.getTime() : nowMs;
      }
    }
    // The lease guard is in the WHERE: a delivery someone else holds now is left alone.
    const completedAt = FINISHED.includes(status) ? nowMs : null;
    const result = await this.hot.settle(tx, { deliveryId, leaseToken, status, nowMs, nextAttemptAt, completedAt }, attempt);
    if (Number(result.numAffectedRows ?? 0n) === 0) {
      // The attempt id is the primary key: finding it means this very call committed before
      // and only the acknowledgement was lost (a retried call). Report success; record nothing.
      return attempt ? (await this.hot.attemptExists(tx, attempt.id)).rows.length > 0 : false;
    }
    if (attempt) await this.hot.insertAttempt(tx, attempt);
    return true;
  }

  async releaseLeases(deliveryIds: string[], leaseToken: string, now: Date): Promise<number> {
    if (deliveryIds.length === 0) return 0;
    const nowMs = now.getTime();
    return this.write(async (tx) => {
      let released = 0;
      let madeDue = false;
      for (const ids of chunks(deliveryIds, INSERT_CHUNK)) {
        const leased = await tx
          .selectFrom('hookrelay_deliveries')
          .select(['id', 'endpoint_id'])
          .where('id', 'in', ids)
          .where('lease_token', '=', leaseToken)
          .where('status', '=', 'pending')
          .execute();
        // Like completeAttempt without an attempt: the endpoint's current state decides.
        const byState = { pending: [] as string[], held: [] as string[], cancelled: [] as string[] };
        const states = new Map<string, Awaited<ReturnType<SqlStorage['lockedEndpointState']>>>();
        for (const row of leased) {
          if (!states.has(row.endpoint_id)) states.set(row.endpoint_id, await this.lockedEndpointState(tx, row.endpoint_id));
          const endpoint = states.get(row.endpoint_id);
          const state = !endpoint || endpoint.deleted_at !== null ? 'cancelled' : endpoint.status === 'paused' ? 'held' : 'pending';
          byState[state].push(row.id);
        }
        for (const [state, stateIds] of Object.entries(byState) as [keyof typeof byState, string[]][]) {
          if (stateIds.length === 0) continue;
          const result = await tx
            .updateTable('hookrelay_deliveries')
            .set({
              status: state,
              lease_token: null,
              next_attempt_at: state === 'pending' ? nowMs : null,
              completed_at: state === 'cancelled' ? nowMs : null,
              updated_at: nowMs,
            })
            .where('id', 'in', stateIds)
            .where('lease_token', '=', leaseToken)
            .where('status', '=', 'pending')
            .executeTakeFirst();
          released += Number(result.numUpdatedRows);
          if (state === 'pending' && Number(result.numUpdatedRows) > 0) madeDue = true;
        }
      }
      if (madeDue) await this.dialect.notify?.(tx);
      return released;
    });
  }

  async nextDueAt(): Promise<Date | null> {
    return this.run(async () => {
      // The head of the partial (next_attempt_at, id) index on pending rows: one index probe.
      const row = await this.db
        .selectFrom('hookrelay_deliveries')
        .select('next_attempt_at')
        .where('status', '=', 'pending')
        .where('next_attempt_at', 'is not', null)
        .orderBy('next_attempt_at')
        .limit(1)
        .executeTakeFirst();
      return row?.next_attempt_at == null ? null : new Date(Number(row.next_attempt_at));
    });
  }

  async listDeliveries(orgId: string, query: ListDeliveriesQuery): Promise<Delivery[]> {
    return this.run(async () => {
      const rows = await this.db
        .selectFrom('hookrelay_deliveries')
        .selectAll()
        .where('org_id', '=', orgId)
        .$if(query.endpointId !== undefined, (qb) => qb.where('endpoint_id', '=', query.endpointId as string))
        .$if(query.eventId !== undefined, (qb) => qb.where('event_id', '=', query.eventId as string))
        .$if(query.status !== undefined, (qb) => qb.where('status', '=', query.status as string))
        .$if(query.since !== undefined, (qb) => qb.where('created_at', '>=', (query.since as Date).getTime()))
        .$if(query.until !== undefined, (qb) => qb.where('created_at', '<', (query.until as Date).getTime()))
        .$if(query.beforeId !== undefined, (qb) => qb.where('id', '<', query.beforeId as string))
        .orderBy('id', 'desc')
        .limit(query.limit)
        .execute();
      return rows.map(deliveryFromRow);
    });
  }

  async getDelivery(orgId: string, id: string): Promise<DeliveryWithAttempts | null> {
    return this.run(async () => {
      const row = await this.db.selectFrom('hookrelay_deliveries').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
      if (!row) return null;
      const attempts = await this.db
        .selectFrom('hookrelay_attempts')
        .selectAll()
        .where('delivery_id', '=', id)
        .orderBy('attempt_number')
        .orderBy('started_at')
        .orderBy('id')
        .execute();
      return { ...deliveryFromRow(row), attempts: attempts.map(attemptFromRow) };
    });
  }

  async retryDelivery(orgId: string, id: string, now: Date): Promise<Delivery | null> {
    return this.write(async (tx) => {
      const read = () => tx.selectFrom('hookrelay_deliveries').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
      const row = await read();
      if (!row) return null;
      const endpoint = await this.lockedEndpointState(tx, row.endpoint_id);
      if (!endpoint || endpoint.deleted_at !== null) return null;
      if (!FINISHED.includes(row.status as DeliveryStatus)) return deliveryFromRow(row);
      // The row was read unlocked: the update checks again that it is still finished, so a retry
      // or replay that committed meanwhile (and a scheduler that claimed it since) keeps its lease.
      const updated = await this.requeue(tx, now, endpoint.status === 'paused')
        .where('id', '=', id)
        .where('status', 'in', FINISHED)
        .returningAll()
        .executeTakeFirst();
      if (!updated) {
        // Requeued by someone else, or pruned: answer with the row as it is now, or not found.
        const current = await read();
        return current ? deliveryFromRow(current) : null;
      }
      if (updated.status === 'pending') await this.dialect.notify?.(tx);
      return deliveryFromRow(updated);
    });
  }

  async replayDeliveries(orgId: string, endpointId: string, query: ReplayQuery, now: Date): Promise<number> {
    const statuses = query.status ? [query.status].filter((s) => FINISHED.includes(s)) : (['succeeded', 'failed'] as DeliveryStatus[]);
    if (statuses.length === 0) return 0;
    return this.write(async (tx) => {
      const endpoint = await this.lockedEndpointState(tx, endpointId);
      if (!endpoint || endpoint.deleted_at !== null || endpoint.org_id !== orgId) return 0;
      // Served by (endpoint_id, status); the time range filters within one endpoint's rows.
      const result = await this.requeue(tx, now, endpoint.status === 'paused')
        .where('endpoint_id', '=', endpointId)
        .where('status', 'in', statuses)
        .where('created_at', '>=', query.since.getTime())
        .$if(query.until !== undefined, (qb) => qb.where('created_at', '<', (query.until as Date).getTime()))
        .executeTakeFirst();
      const count = Number(result.numUpdatedRows);
      if (count > 0 && endpoint.status !== 'paused') await this.dialect.notify?.(tx);
      return count;
    });
  }

  async prune(query: PruneQuery): Promise<PruneResult> {
    const cutoff = query.olderThan.getTime();
    const result: PruneResult = { deliveries: 0, attempts: 0, events: 0 };
    // In short transactions of at most `pruneChunk` rows each: one transaction over a large
    // backlog would hold SQLite's write lock (and Postgres row locks) for as long as it takes,
    // stalling emits and claims behind it.
    for (;;) {
      const removed = await this.write((tx) => this.pruneDeliveryChunk(tx, cutoff));
      result.deliveries += removed.deliveries;
      result.attempts += removed.attempts;
      if (!removed.full) break;
    }
    for (;;) {
      const removed = await this.write((tx) => this.pruneEventChunk(tx, cutoff));
      result.events += removed.events;
      if (!removed.full) break;
    }
    return result;
  }

  /** Deletes up to one chunk of finished deliveries completed before `cutoff`, then their attempts. */
  private async pruneDeliveryChunk(tx: Db, cutoff: number): Promise<{ deliveries: number; attempts: number; full: boolean }> {
    // The partial completed_at index finds them. The condition is checked again by the DELETE:
    // a delivery re-sent since the SELECT (retry, replay) is no longer finished and stays.
    const candidates = await tx
      .selectFrom('hookrelay_deliveries')
      .select('id')
      .where((eb) => prunableDelivery(eb, cutoff))
      .orderBy('completed_at')
      .limit(this.pruneChunk)
      .execute();
    const full = candidates.length === this.pruneChunk;
    if (candidates.length === 0) return { deliveries: 0, attempts: 0, full };
    const deleted = await tx
      .deleteFrom('hookrelay_deliveries')
      .where('id', 'in', candidates.map((c) => c.id))
      .where((eb) => prunableDelivery(eb, cutoff))
      .returning('id')
      .execute();
    if (deleted.length === 0) return { deliveries: 0, attempts: 0, full };
    const attempts = await tx
      .deleteFrom('hookrelay_attempts')
      .where('delivery_id', 'in', deleted.map((d) => d.id))
      .executeTakeFirst();
    return { deliveries: deleted.length, attempts: Number(attempts.numDeletedRows), full };
  }

  /**
   * Deletes up to one chunk of events created before `cutoff` with no delivery left, including
   * events that matched no endpoint: (created_at) finds them, (event_id) answers whether a
   * delivery remains. Deleting an event frees its idempotency key.
   */
  private async pruneEventChunk(tx: Db, cutoff: number): Promise<{ events: number; full: boolean }> {
    const candidates = await tx
      .selectFrom('hookrelay_events')
      .select('id')
      .where('created_at', '<', cutoff)
      .where(noDeliveryLeft)
      .orderBy('created_at')
      .limit(this.pruneChunk)
      .execute();
    const full = candidates.length === this.pruneChunk;
    if (candidates.length === 0) return { events: 0, full };
    const deleted = await tx
      .deleteFrom('hookrelay_events')
      .where('id', 'in', candidates.map((c) => c.id))
      .where(noDeliveryLeft)
      .executeTakeFirst();
    return { events: Number(deleted.numDeletedRows), full };
  }

  // ---- helpers ----

  private async insertEventIn(tx: Db, given: NewEventWrite, inHostTransaction = false): Promise<InsertEventResult> {
    const write = await this.heldAtWrite(tx, given);
    const { event } = write;
    // DO NOTHING on any unique conflict: the idempotency index (a racing or earlier emit with
    // the same key) or the primary key (our own commit, retried after a lost acknowledgement).
    // On Postgres a racing insert waits for the first to commit, then conflicts.
    const eventRow = eventToRow(event);
    const wakes = write.deliveries.some((d) => d.status === 'pending');
    let created: boolean;
    if (this.dialect.dataModifyingCtes) {
      try {
        // Inside a host transaction only the transaction itself can notify on commit; otherwise
        // bursts of emits share wake-ups (see notifyNow).
        const notify = wakes && (inHostTransaction || this.notifyNow());
        const { rows } = await this.hot.insertEventAtomic(tx, eventRow, write.deliveries, notify ? this.notifyChannel : null);
        created = Number(rows[0]?.created) > 0;
        if (created && wakes && !notify) this.notifySoon();
      } catch (error) {
        if (this.dialect.isUniqueViolation(error)) throw new WebhookError('CONFLICT', 'delivery id already exists', { cause: error });
        throw error;
      }
    } else {
      created = Number((await this.hot.insertEvent(tx, eventRow)).numAffectedRows ?? 0n) > 0;
      if (created) {
        try {
          for (const batch of chunks(write.deliveries, INSERT_CHUNK)) if (batch.length) await this.hot.insertDeliveries(tx, batch);
        } catch (error) {
          // Our own transaction, or the host's savepoint (see insertEvent), rolls back the event row too.
          if (this.dialect.isUniqueViolation(error)) throw new WebhookError('CONFLICT', 'delivery id already exists', { cause: error });
          throw error;
        }
        if (wakes) await this.dialect.notify?.(tx);
      }
    }
    if (!created) {
      const sameId = await tx.selectFrom('hookrelay_events').selectAll().where('id', '=', event.id).executeTakeFirst();
      const existing =
        sameId ??
        (event.idempotencyKey === null
          ? undefined
          : await tx
              .selectFrom('hookrelay_events')
              .selectAll()
              .where('org_id', '=', event.orgId)
              .where('idempotency_key', '=', event.idempotencyKey)
              .executeTakeFirst());
      if (!existing) throw new WebhookError('CONFLICT', 'the event could not be written; try again');
      // The same id with other content is a genuine clash, not our retried write.
      if (sameId && !sameEventRow(sameId, eventToRow(event))) throw new WebhookError('CONFLICT', 'event id already exists');
      const deliveries = await tx.selectFrom('hookrelay_deliveries').selectAll().where('event_id', '=', existing.id).orderBy('id').execute();
      return { event: eventFromRow(existing), deliveries: deliveries.map(deliveryFromRow), created: sameId !== undefined };
    }
    return { event: structuredClone(event), deliveries: write.deliveries.map((d) => structuredClone(d)), created: true };
  }

  /**
   * Re-decides the deliveries emit marked held from the endpoints' state inside this write
   * (src/storage/held-at-write.ts). FOR SHARE orders it with a concurrent resume, which locks
   * the endpoint row before releasing held deliveries: either we see the endpoint active, or
   * the resume waits for our commit and its release then finds our rows.
   */
  private async heldAtWrite(tx: Db, write: NewEventWrite): Promise<NewEventWrite> {
    const heldEndpointIds = [...new Set(write.deliveries.filter((d) => d.status === 'held').map((d) => d.endpointId))].sort();
    if (heldEndpointIds.length === 0) return write;
    const rows = await tx
      .selectFrom('hookrelay_endpoints')
      .select(['id', 'status', 'deleted_at'])
      .where('id', 'in', heldEndpointIds)
      .orderBy('id')
      .$if(this.dialect.supportsRowLocks, (qb) => qb.forShare())
      .execute();
    const states = new Map(rows.map((r) => [r.id, { status: r.status as EndpointRecord['status'], deletedAt: r.deleted_at === null ? null : new Date(Number(r.deleted_at)) }]));
    return { event: write.event, deliveries: write.deliveries.map((d) => heldDeliveryAtWrite(d, states.get(d.endpointId))) };
  }

  private liveEndpointQuery(db: Db, orgId: string, id: string) {
    return db.selectFrom('hookrelay_endpoints').selectAll().where('id', '=', id).where('org_id', '=', orgId).where('deleted_at', 'is', null);
  }

  /** Locks the endpoint row for share, so a concurrent pause or delete orders itself around us. */
  private lockedEndpointState(tx: Db, endpointId: string) {
    return tx
      .selectFrom('hookrelay_endpoints')
      .select(['org_id', 'status', 'deleted_at'])
      .where('id', '=', endpointId)
      .$if(this.dialect.supportsRowLocks, (qb) => qb.forShare())
      .executeTakeFirst();
  }

  /** An UPDATE that makes finished deliveries pending (due now) or held; the caller adds the WHERE. */
  private requeue(tx: Db, now: Date, held: boolean) {
    return tx.updateTable('hookrelay_deliveries').set({
      status: held ? 'held' : 'pending',
      // The retry schedule restarts here (see Delivery.requeuedAtAttempt).
      requeued_at_attempt: sql<number>`attempt_count`,
      next_attempt_at: held ? null : now.getTime(),
      completed_at: null,
      lease_token: null,
      updated_at: now.getTime(),
    });
  }

  /** Holds the endpoint's pending deliveries; one under a live lease is held by its completeAttempt. */
  private async holdDeliveries(tx: Db, endpointId: string, now: Date): Promise<void> {
    const nowMs = now.getTime();
    await tx
      .updateTable('hookrelay_deliveries')
      .set({ status: 'held', next_attempt_at: null, lease_token: null, updated_at: nowMs })
      .where('endpoint_id', '=', endpointId)
      .where('status', '=', 'pending')
      .where((eb) => notUnderLiveLease(eb, nowMs))
      .execute();
  }

  private async releaseHeld(tx: Db, endpointId: string, now: Date): Promise<number> {
    const result = await tx
      .updateTable('hookrelay_deliveries')
      .set({ status: 'pending', next_attempt_at: now.getTime(), updated_at: now.getTime() })
      .where('endpoint_id', '=', endpointId)
      .where('status', '=', 'held')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * NOTIFY serialises committing transactions on a server-wide lock, and one wake-up per burst
   * is all an idle scheduler needs. So an emit notifies inside its own statement only when no
   * wake-up went out in the last few ms; otherwise a trailing NOTIFY follows its commit, so the
   * last write of a burst always wakes the other processes.
   */
  private notifyNow(): boolean {
    const now = Date.now();
    if (now - this.lastNotifyAt < NOTIFY_COALESCE_MS) return false;
    this.lastNotifyAt = now;
    return true;
  }

  private notifySoon(): void {
    if (this.trailingNotify || this.closed || !this.notifyChannel) return;
    const channel = this.notifyChannel;
    this.trailingNotify = setTimeout(() => {
      this.trailingNotify = null;
      this.lastNotifyAt = Date.now();
      // A lost trailing wake-up only costs latency: polling still finds the work.
      sql`SELECT pg_notify(${channel}, '')`.execute(this.db).catch(() => undefined);
    }, NOTIFY_COALESCE_MS);
    this.trailingNotify.unref();
  }

  /** The host's kysely transaction, pointed at our schema. */
  private hostTransaction(transaction: unknown): Db {
    const candidate = transaction as { isTransaction?: unknown; selectFrom?: unknown; withSchema?: unknown } | null;
    if (typeof candidate !== 'object' || candidate === null || candidate.isTransaction !== true || typeof candidate.selectFrom !== 'function') {
      throw new WebhookError('BAD_REQUEST', `options.transaction must be a kysely Transaction on the same database as the ${this.kind} storage`);
    }
    const tx = transaction as Db;
    return this.schema ? tx.withSchema(this.schema) : tx;
  }

  private readonly tableRef: TableRef = (name) => sql.table(this.schema ? `${this.schema}.${name}` : name);

  private qualified(name: TableName): string {
    return this.schema ? `${quoteIdent(this.schema)}.${quoteIdent(name)}` : name;
  }

  private write<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    if (this.dialect.groupCommit) return this.groupCommit.write(work);
    return this.run(() => this.dialect.writeTransaction(this.db, work));
  }

  private readonly eventBatcher = new EventBatcher(
    async (writes) => {
      const wakes = writes.some((w) => w.deliveries.some((d) => d.status === 'pending'));
      const notify = wakes && this.notifyNow();
      const { rows } = await this.run(() =>
        this.hot.insertEventsBatch(
          this.db,
          writes.map((w) => eventToRow(w.event)),
          writes.flatMap((w) => w.deliveries),
          notify ? this.notifyChannel : null,
        ),
      );
      const created = new Set(rows.map((r) => r.id));
      if (wakes && !notify && created.size > 0) this.notifySoon();
      return created;
    },
    (write) => this.run(() => this.insertEventIn(this.db, write)),
  );

  private readonly endpointReader = new LiveEndpointsReader((orgIds) =>
    this.run(async () => (await this.hot.liveEndpointsOfOrgs(this.db, orgIds)).rows),
  );

  private readonly finishedBatcher = new FinishedBatcher(
    (items) => this.run(() => this.hot.settleFinishedBatch(this.db, items)).then((r) => new Set(r.rows.map((row) => row.id))),
    (item) =>
      this.run(async () => {
        const { rows } = await this.hot.settleFinishedAtomic(this.db, item, item.attempt);
        return Number(rows[0]?.updated) > 0;
      }),
    (attemptId) => this.run(async () => (await this.hot.attemptExists(this.db, attemptId)).rows.length > 0),
  );

  private readonly groupCommit = new GroupCommit(
    (transaction) => this.run(() => this.dialect.writeTransaction(this.db, transaction)),
    (error) => this.dialect.isTransient(error),
    (error) => asStorageError(error, this.dialect),
    (tx, work) => this.hot.inSavepoint(tx, work),
  );

  private run<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new WebhookError('STORAGE_UNAVAILABLE', `the ${this.kind} storage is closed`));
    return withTransientRetry(work, this.dialect, this.retryPolicy);
  }
}

/**
 * A pending delivery is under a live lease while leased and its lease (the pushed
 * `next_attempt_at`) has not run out: an attempt may be in flight.
 */
function notUnderLiveLease(eb: ExpressionBuilder<HookrelayDatabase, 'hookrelay_deliveries'>, nowMs: number) {
  return eb.or([eb('lease_token', 'is', null), eb('next_attempt_at', '<=', nowMs)]);
}

function prunableDelivery(eb: ExpressionBuilder<HookrelayDatabase, 'hookrelay_deliveries'>, cutoff: number) {
  return eb.and([eb('completed_at', 'is not', null), eb('completed_at', '<', cutoff), eb('status', 'in', FINISHED)]);
}

/** An event no delivery refers to any more; checked again by the DELETE, as an emit may have raced it. */
function noDeliveryLeft({ not, exists, selectFrom }: ExpressionBuilder<HookrelayDatabase, 'hookrelay_events'>) {
  return not(exists(selectFrom('hookrelay_deliveries as kept').select('kept.id').whereRef('kept.event_id', '=', 'hookrelay_events.id')));
}

function sameEventRow(stored: { org_id: string; type: string; data: string; created_at: number | string }, written: NewEventRow): boolean {
  return stored.org_id === written.org_id && stored.type === written.type && stored.data === written.data && Number(stored.created_at) === written.created_at;
}

/** Emits per shared statement on Postgres. */
const MAX_EVENT_BATCH = 100;

/**
 * Batches emits on Postgres: calls that arrive while a statement is in flight share the next
 * one, which writes every event with its deliveries atomically. Writes whose event conflicted
 * (an idempotency key already used, or a retried write) go through the one-by-one path, which
 * answers with the first event; so does every write of a batch whose statement failed (say, a
 * clashing delivery id), so one bad write cannot fail the others. Within a batch, events have
 * distinct ids and idempotency keys.
 */
class EventBatcher extends SharedRounds<{ write: NewEventWrite; resolve: (r: InsertEventResult) => void; reject: (error: unknown) => void }> {
  constructor(
    private readonly insertMany: (writes: NewEventWrite[]) => Promise<Set<string>>,
    private readonly insertOne: (write: NewEventWrite) => Promise<InsertEventResult>,
  ) {
    super();
  }

  insert(write: NewEventWrite): Promise<InsertEventResult> {
    return new Promise((resolve, reject) => this.enqueue({ write, resolve, reject }));
  }

  protected takeRound() {
    return takeDistinct(this.queue, MAX_EVENT_BATCH, ({ write: { event } }) =>
      event.idempotencyKey === null ? [`id\u0000${event.id}`] : [`id\u0000${event.id}`, `key\u0000${event.orgId}\u0000${event.idempotencyKey}`],
    );
  }

  protected async runRound(batch: ReturnType<EventBatcher['takeRound']>): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [(typeof batch)[number]];
      await this.insertOne(only.write).then(only.resolve, only.reject);
      return;
    }
    const created = await this.insertMany(batch.map((b) => b.write)).catch(() => null);
    await Promise.all(
      batch.map(async ({ write, resolve, reject }) => {
        if (created?.has(write.event.id)) {
          resolve({ event: structuredClone(write.event), deliveries: write.deliveries.map((d) => structuredClone(d)), created: true });
          return;
        }
        await this.insertOne(write).then(resolve, reject);
      }),
    );
  }
}

/** Orgs per shared endpoint read on Postgres. */
const MAX_ORGS_PER_READ = 100;

/**
 * Shares the "live endpoints of this org" read among emits that arrive together on Postgres:
 * with the batched insert, it halves the round trips of a burst of emits. A call's read
 * always starts after the call did, so it never sees an older state than a read of its own.
 */
class LiveEndpointsReader extends SharedRounds<{ orgId: string; resolve: (rows: EndpointRow[]) => void; reject: (error: unknown) => void }> {
  constructor(private readonly readMany: (orgIds: string[]) => Promise<EndpointRow[]>) {
    super();
  }

  read(orgId: string): Promise<EndpointRow[]> {
    return new Promise((resolve, reject) => this.enqueue({ orgId, resolve, reject }));
  }

  protected takeRound() {
    // Calls of the same org share one slot: the cap counts orgs, not calls.
    const orgs = new Set<string>();
    let end = 0;
    while (end < this.queue.length) {
      const orgId = (this.queue[end] as (typeof this.queue)[number]).orgId;
      if (!orgs.has(orgId) && orgs.size === MAX_ORGS_PER_READ) break;
      orgs.add(orgId);
      end++;
    }
    return this.queue.splice(0, end);
  }

  protected async runRound(round: ReturnType<LiveEndpointsReader['takeRound']>): Promise<void> {
    try {
      const rows = await this.readMany([...new Set(round.map((call) => call.orgId))]);
      const byOrg = new Map<string, EndpointRow[]>();
      for (const row of rows) {
        const list = byOrg.get(row.org_id);
        if (list) list.push(row);
        else byOrg.set(row.org_id, [row]);
      }
      for (const call of round) call.resolve(byOrg.get(call.orgId) ?? []);
    } catch (error) {
      for (const call of round) call.reject(error);
    }
  }
}

interface FinishedItem {
  deliveryId: string;
  leaseToken: string;
  status: string;
  nowMs: number;
  attempt: Attempt;
}

/** Finished attempts per shared statement. */
const MAX_FINISHED_BATCH = 200;

/**
 * Batches finished attempts (the bulk of completions) on Postgres: calls that arrive while a
 * statement is in flight share the next one. Every row carries its own lease guard, so the
 * statement moves exactly the rows a one-by-one run would. A delivery not moved was either
 * recorded by an earlier try of the same call (its attempt id exists: success) or is no
 * longer ours (false). If the shared statement fails, each call is retried on its own, so one
 * bad row cannot fail the others.
 */
class FinishedBatcher extends SharedRounds<{ item: FinishedItem; resolve: (ok: boolean) => void; reject: (error: unknown) => void }> {
  constructor(
    private readonly settleMany: (items: FinishedItem[]) => Promise<Set<string>>,
    private readonly settleOne: (item: FinishedItem) => Promise<boolean>,
    private readonly attemptRecorded: (attemptId: string) => Promise<boolean>,
  ) {
    super();
  }

  settle(item: FinishedItem): Promise<boolean> {
    return new Promise((resolve, reject) => this.enqueue({ item, resolve, reject }));
  }

  protected takeRound() {
    // One row per delivery per statement: a repeated id waits for the next round.
    return takeDistinct(this.queue, MAX_FINISHED_BATCH, ({ item }) => [item.deliveryId]);
  }

  protected async runRound(batch: ReturnType<FinishedBatcher['takeRound']>): Promise<void> {
    let moved: Set<string> | null = null;
    if (batch.length > 1) moved = await this.settleMany(batch.map((b) => b.item)).catch(() => null);
    await Promise.all(
      batch.map(async ({ item, resolve, reject }) => {
        try {
          const ok = moved ? moved.has(item.deliveryId) : await this.settleOne(item);
          resolve(ok || (await this.attemptRecorded(item.attempt.id)));
        } catch (error) {
          reject(error);
        }
      }),
    );
  }
}

interface QueuedWrite {
  work: (tx: Db) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Writes per shared transaction: enough to amortise a commit, few enough to keep latency low. */
const MAX_GROUP = 64;

/**
 * Group commit. Writes that arrive while a transaction is running wait and then share the next
 * one, each inside its own SAVEPOINT: a write that throws rolls back to its savepoint and fails
 * alone, the others commit. Nobody's promise resolves before the shared COMMIT succeeded, so
 * each write is still all-or-nothing and durable when it resolves. A transient failure (busy,
 * or a failed COMMIT) re-runs the whole group, which is safe: nothing of it was committed.
 */
class GroupCommit extends SharedRounds<QueuedWrite> {
  constructor(
    private readonly transaction: <T>(work: (tx: Db) => Promise<T>) => Promise<T>,
    private readonly isTransient: (error: unknown) => boolean,
    private readonly asStorageError: (error: unknown) => unknown,
    private readonly inSavepoint: <T>(tx: Db, work: () => Promise<T>) => Promise<T>,
  ) {
    // The writes of one event-loop turn (attempts finishing on several sockets, emits from
    // several requests) share a commit; on SQLite the commit is most of a write's cost.
    super({ gather: true });
  }

  write<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => this.enqueue({ work, resolve: resolve as (value: unknown) => void, reject }));
  }

  protected takeRound(): QueuedWrite[] {
    return this.queue.splice(0, MAX_GROUP);
  }

  protected async runRound(group: QueuedWrite[]): Promise<void> {
    if (group.length === 1) {
      const [only] = group as [QueuedWrite];
      await this.transaction(only.work).then(only.resolve, only.reject);
      return;
    }
    let outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[];
    try {
      outcomes = await this.transaction(async (tx) => {
        const results: typeof outcomes = [];
        for (const item of group) {
          try {
            results.push({ ok: true, value: await this.inSavepoint(tx, () => item.work(tx)) });
          } catch (error) {
            // Busy or lost connection: retry the whole group rather than fail one write.
            if (this.isTransient(error)) throw error;
            results.push({ ok: false, error: this.asStorageError(error) });
          }
        }
        return results;
      });
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    }
    group.forEach((item, i) => {
      const outcome = outcomes[i] as (typeof outcomes)[number];
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
