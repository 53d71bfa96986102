import { sql } from 'kysely';
import { isFinished, replayedStatuses } from '../../src/delivery/transitions.js';
import { WebhookError } from '../../src/errors.js';
import type { Delivery, DeliveryWithAttempts, EndpointRecord, EndpointSecret, PausedReason, WebhookEvent } from '../../src/model.js';
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
import { assembleClaims } from './claimed-batch.js';
import { completeIn, releaseLeasesIn, replayIn, retryDeliveryIn } from './delivery-queries.js';
import type { Db, SqlDialect, TableRef } from './dialect.js';
import { createEndpointIn, deleteEndpointIn, liveEndpointQuery, pauseIn, rotateSecretIn, updateEndpointIn } from './endpoint-queries.js';
import { insertEventIn } from './event-queries.js';
import { HotQueries } from './hot-queries.js';
import { runMigrations } from './migrate.js';
import { pruneDeliveryChunk, pruneEventChunk } from './prune-queries.js';
import { attemptFromRow, deliveryFromRow, type EndpointRow, endpointFromRow, type EventRow, eventFromRow } from './rows.js';
import { asStorageError, type RetryPolicy, withTransientRetry } from './transient.js';
import type { WritePath } from './write-path.js';

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
  /** Rows per prune transaction (default 1000); tests lower it to cross chunk boundaries. */
  pruneChunk?: number | undefined;
}

/**
 * The Storage contract over kysely, shared by SQLite and Postgres. What each operation writes
 * is decided here and in the `*-queries.ts` files beside it, in SQL both engines run the same
 * way; how writes are committed is the dialect's `WritePath`.
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
  private readonly writePath: WritePath;
  private readonly pruneChunk: number;

  constructor(config: SqlStorageConfig) {
    this.dialect = config.dialect;
    this.kind = config.dialect.kind;
    this.schema = config.schema;
    this.db = config.schema ? config.db.withSchema(config.schema) : config.db;
    this.ownsDb = config.ownsDb;
    this.retryPolicy = config.retry;
    this.notifier = config.notifier;
    this.hot = new HotQueries(this.tableRef);
    this.pruneChunk = config.pruneChunk ?? 1000;
    this.writePath = config.dialect.createWritePath({
      db: this.db,
      table: this.tableRef,
      hot: this.hot,
      run: (work) => this.run(work),
      insertEventIn: (tx, write) => insertEventIn(tx, this.dialect, this.writePath, write, false),
    });
    if (config.notifier) {
      const notifier = config.notifier;
      this.subscribe = (listener) => notifier.subscribe(listener);
    }
  }

  async migrate(): Promise<void> {
    await this.run(() => runMigrations(this.db, this.dialect));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.writePath.close();
    await this.notifier?.close();
    if (this.ownsDb) await this.db.destroy();
  }

  // ---- endpoints ----

  async createEndpoint(record: EndpointRecord, limits: { maxPerOrg: number }): Promise<EndpointRecord> {
    return this.write((tx) => createEndpointIn(tx, this.dialect, record, limits));
  }

  async getEndpoint(orgId: string, id: string): Promise<EndpointRecord | null> {
    return this.run(async () => {
      const row = await liveEndpointQuery(this.db, orgId, id).executeTakeFirst();
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
    const rows = await this.writePath.liveEndpoints(orgId);
    return rows.map(endpointFromRow).filter((e) => e.events.includes(eventType));
  }

  async updateEndpoint(orgId: string, id: string, patch: EndpointPatch, now: Date): Promise<EndpointRecord | null> {
    return this.write((tx) => updateEndpointIn(tx, this.dialect, orgId, id, patch, now));
  }

  async pauseEndpoint(id: string, reason: PausedReason, now: Date): Promise<EndpointRecord | null> {
    return this.write((tx) => pauseIn(tx, id, reason, now));
  }

  async deleteEndpoint(orgId: string, id: string, now: Date): Promise<boolean> {
    return this.write((tx) => deleteEndpointIn(tx, orgId, id, now));
  }

  async rotateSecret(orgId: string, id: string, secret: EndpointSecret, previousExpiresAt: Date, now: Date): Promise<EndpointRecord | null> {
    return this.write((tx) => rotateSecretIn(tx, this.dialect, orgId, id, secret, previousExpiresAt, now));
  }

  // ---- events and deliveries ----

  async insertEvent(write: NewEventWrite, options: WriteOptions = {}): Promise<InsertEventResult> {
    if (options.transaction !== undefined) {
      // The host owns this transaction: no retry (a failed statement aborted the host's work
      // too), and no commit here. A NOTIFY inside it fires only if the host commits.
      const tx = this.hostTransaction(options.transaction);
      try {
        return await this.writePath.inHostTransaction(tx, () => insertEventIn(tx, this.dialect, this.writePath, write, true));
      } catch (error) {
        throw asStorageError(error, this.dialect);
      }
    }
    // A write with held deliveries re-reads its endpoints under a lock (see heldAtWrite), which
    // needs a transaction; such writes are rare (paused endpoints only) and skip any fast path.
    const hasHeld = write.deliveries.some((d) => d.status === 'held');
    if (!hasHeld && this.writePath.insertEvent) return this.writePath.insertEvent(write);
    return this.write((tx) => insertEventIn(tx, this.dialect, this.writePath, write, false));
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
    const { claimed, orphans } = assembleClaims(rows, events, endpoints, request.leaseToken);
    // Its event or endpoint row was removed behind our back (hookrelay itself never does that):
    // nothing can be sent, so cancel it rather than leave it to be claimed again every lease.
    for (const deliveryId of orphans) {
      const cancel: CompleteAttemptRequest = { deliveryId, leaseToken: request.leaseToken, attempt: null, next: { status: 'cancelled' }, now: request.now };
      await this.write((tx) => completeIn(tx, this.dialect, this.hot, cancel));
    }
    return claimed;
  }

  async completeAttempt(request: CompleteAttemptRequest): Promise<boolean> {
    const { deliveryId, leaseToken, attempt, next, now } = request;
    if (attempt && isFinished(next.status) && this.writePath.settleFinished) {
      return this.writePath.settleFinished({ deliveryId, leaseToken, status: next.status, nowMs: now.getTime(), attempt });
    }
    return this.write((tx) => completeIn(tx, this.dialect, this.hot, request));
  }

  async completeAttemptAndPause(
    request: CompleteAttemptRequest,
    pause: { endpointId: string; reason: PausedReason },
  ): Promise<{ recorded: boolean; paused: EndpointRecord | null }> {
    return this.write(async (tx) => {
      const recorded = await completeIn(tx, this.dialect, this.hot, request);
      return { recorded, paused: recorded ? await pauseIn(tx, pause.endpointId, pause.reason, request.now) : null };
    });
  }

  async releaseLeases(deliveryIds: string[], leaseToken: string, now: Date): Promise<number> {
    if (deliveryIds.length === 0) return 0;
    return this.write((tx) => releaseLeasesIn(tx, this.dialect, deliveryIds, leaseToken, now));
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
    return this.write((tx) => retryDeliveryIn(tx, this.dialect, orgId, id, now));
  }

  async replayDeliveries(orgId: string, endpointId: string, query: ReplayQuery, now: Date): Promise<number> {
    const statuses = replayedStatuses(query.status);
    if (statuses.length === 0) return 0;
    return this.write((tx) => replayIn(tx, this.dialect, orgId, endpointId, statuses, query, now));
  }

  async prune(query: PruneQuery): Promise<PruneResult> {
    const cutoff = query.olderThan.getTime();
    const result: PruneResult = { deliveries: 0, attempts: 0, events: 0 };
    // In short transactions of at most `pruneChunk` rows each: one transaction over a large
    // backlog would hold SQLite's write lock (and Postgres row locks) for as long as it takes,
    // stalling emits and claims behind it.
    for (;;) {
      const removed = await this.write((tx) => pruneDeliveryChunk(tx, cutoff, this.pruneChunk));
      result.deliveries += removed.deliveries;
      result.attempts += removed.attempts;
      if (!removed.full) break;
    }
    for (;;) {
      const removed = await this.write((tx) => pruneEventChunk(tx, cutoff, this.pruneChunk));
      result.events += removed.events;
      if (!removed.full) break;
    }
    return result;
  }

  // ---- helpers ----

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

  private write<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    return this.writePath.write(work);
  }

  private run<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new WebhookError('STORAGE_UNAVAILABLE', `the ${this.kind} storage is closed`));
    return withTransientRetry(work, this.dialect, this.retryPolicy);
  }
}
