import { type ExpressionBuilder, sql } from 'kysely';
import type { Delivery, DeliveryStatus } from '../../src/model.js';
import { FINISHED_STATUSES, isFinished } from '../../src/delivery/transitions.js';
import type { CompleteAttemptRequest, ReplayQuery } from '../../src/storage/storage.js';
import { chunks, INSERT_CHUNK } from './chunks.js';
import type { Db, SqlDialect } from './dialect.js';
import type { HotQueries } from './hot-queries.js';
import { deliveryFromRow } from './rows.js';
import type { HookrelayDatabase } from './schema.js';

/**
 * A pending delivery is under a live lease while leased and its lease (the pushed
 * `next_attempt_at`) has not run out: an attempt may be in flight.
 */
export function notUnderLiveLease(eb: ExpressionBuilder<HookrelayDatabase, 'hookrelay_deliveries'>, nowMs: number) {
  return eb.or([eb('lease_token', 'is', null), eb('next_attempt_at', '<=', nowMs)]);
}

/** Locks the endpoint row for share, so a concurrent pause or delete orders itself around us. */
function lockedEndpointState(tx: Db, dialect: SqlDialect, endpointId: string) {
  return tx
    .selectFrom('hookrelay_endpoints')
    .select(['org_id', 'status', 'deleted_at'])
    .where('id', '=', endpointId)
    .$if(dialect.supportsRowLocks, (qb) => qb.forShare())
    .executeTakeFirst();
}

/** Holds the endpoint's pending deliveries; one under a live lease is held by its completeAttempt. */
export async function holdDeliveries(tx: Db, endpointId: string, now: Date): Promise<void> {
  const nowMs = now.getTime();
  await tx
    .updateTable('hookrelay_deliveries')
    .set({ status: 'held', next_attempt_at: null, lease_token: null, updated_at: nowMs })
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'pending')
    .where((eb) => notUnderLiveLease(eb, nowMs))
    .execute();
}

export async function releaseHeld(tx: Db, endpointId: string, now: Date): Promise<number> {
  const result = await tx
    .updateTable('hookrelay_deliveries')
    .set({ status: 'pending', next_attempt_at: now.getTime(), updated_at: now.getTime() })
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'held')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Records an attempt's outcome on its leased delivery (see `Storage.completeAttempt`). */
export async function completeIn(tx: Db, dialect: SqlDialect, hot: HotQueries, request: CompleteAttemptRequest): Promise<boolean> {
  const { deliveryId, leaseToken, attempt, next, now } = request;
  const nowMs = now.getTime();
  let status: DeliveryStatus = next.status;
  let nextAttemptAt: number | null = null;
  if (!isFinished(next.status)) {
    // The endpoint's state now, not the one the worker saw, decides: it may have been
    // paused, resumed or deleted while the attempt was in flight. FOR SHARE orders us with
    // a concurrent pause or delete (both lock the endpoint row first): either we see it
    // paused, or its hold finds our delivery no longer leased.
    const endpoint = await tx
      .selectFrom('hookrelay_deliveries as d')
      .innerJoin('hookrelay_endpoints as e', 'e.id', 'd.endpoint_id')
      .select(['e.status', 'e.deleted_at', 'e.id'])
      .where('d.id', '=', deliveryId)
      .$if(dialect.supportsRowLocks, (qb) => qb.forShare('e'))
      .executeTakeFirst();
    if (!endpoint || endpoint.deleted_at !== null) status = 'cancelled';
    else if (endpoint.status === 'paused') status = 'held';
    else {
      status = 'pending';
      nextAttemptAt = next.status === 'pending' ? next.nextAttemptAt.getTime() : nowMs;
    }
  }
  // The lease guard is in the WHERE: a delivery someone else holds now is left alone.
  const completedAt = isFinished(status) ? nowMs : null;
  const result = await hot.settle(tx, { deliveryId, leaseToken, status, nowMs, nextAttemptAt, completedAt }, attempt);
  if (Number(result.numAffectedRows ?? 0n) === 0) {
    // The attempt id is the primary key: finding it means this very call committed before
    // and only the acknowledgement was lost (a retried call). Report success; record nothing.
    return attempt ? (await hot.attemptExists(tx, attempt.id)).rows.length > 0 : false;
  }
  if (attempt) await hot.insertAttempt(tx, attempt);
  return true;
}

/** Hands leased deliveries back (see `Storage.releaseLeases`); returns how many were released. */
export async function releaseLeasesIn(tx: Db, dialect: SqlDialect, deliveryIds: string[], leaseToken: string, now: Date): Promise<number> {
  const nowMs = now.getTime();
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
    const states = new Map<string, Awaited<ReturnType<typeof lockedEndpointState>>>();
    for (const row of leased) {
      if (!states.has(row.endpoint_id)) states.set(row.endpoint_id, await lockedEndpointState(tx, dialect, row.endpoint_id));
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
  if (madeDue) await dialect.notify?.(tx);
  return released;
}

/** Re-sends one finished delivery (see `Storage.retryDelivery`). */
export async function retryDeliveryIn(tx: Db, dialect: SqlDialect, orgId: string, id: string, now: Date): Promise<Delivery | null> {
  const read = () => tx.selectFrom('hookrelay_deliveries').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
  const row = await read();
  if (!row) return null;
  const endpoint = await lockedEndpointState(tx, dialect, row.endpoint_id);
  if (!endpoint || endpoint.deleted_at !== null) return null;
  if (!isFinished(row.status)) return deliveryFromRow(row);
  // The row was read unlocked: the update checks again that it is still finished, so a retry
  // or replay that committed meanwhile (and a scheduler that claimed it since) keeps its lease.
  const updated = await requeue(tx, now, endpoint.status === 'paused')
    .where('id', '=', id)
    .where('status', 'in', FINISHED_STATUSES)
    .returningAll()
    .executeTakeFirst();
  if (!updated) {
    // Requeued by someone else, or pruned: answer with the row as it is now, or not found.
    const current = await read();
    return current ? deliveryFromRow(current) : null;
  }
  if (updated.status === 'pending') await dialect.notify?.(tx);
  return deliveryFromRow(updated);
}

/** Re-sends an endpoint's finished deliveries in `statuses` (see `Storage.replayDeliveries`). */
export async function replayIn(
  tx: Db,
  dialect: SqlDialect,
  orgId: string,
  endpointId: string,
  statuses: DeliveryStatus[],
  query: ReplayQuery,
  now: Date,
): Promise<number> {
  const endpoint = await lockedEndpointState(tx, dialect, endpointId);
  if (!endpoint || endpoint.deleted_at !== null || endpoint.org_id !== orgId) return 0;
  // Served by (endpoint_id, status); the time range filters within one endpoint's rows.
  const result = await requeue(tx, now, endpoint.status === 'paused')
    .where('endpoint_id', '=', endpointId)
    .where('status', 'in', statuses)
    .where('created_at', '>=', query.since.getTime())
    .$if(query.until !== undefined, (qb) => qb.where('created_at', '<', (query.until as Date).getTime()))
    .executeTakeFirst();
  const count = Number(result.numUpdatedRows);
  if (count > 0 && endpoint.status !== 'paused') await dialect.notify?.(tx);
  return count;
}

/** An UPDATE that makes finished deliveries pending (due now) or held; the caller adds the WHERE. */
function requeue(tx: Db, now: Date, held: boolean) {
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
