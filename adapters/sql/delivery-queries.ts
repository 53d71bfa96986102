import { type ExpressionBuilder, sql } from 'kysely';
import {
  dependsOnEndpoint,
  type EndpointChange,
  type EndpointState,
  FINISHED_STATUSES,
  onEndpointChange,
  type Placement,
  releaseLease,
  requeue,
  resendPlacement,
  settleAttempt,
} from '../../src/delivery/transitions.js';
import type { Delivery, DeliveryStatus, EndpointStatus } from '../../src/model.js';
import type { CompleteAttemptRequest, ReplayQuery } from '../../src/storage/storage.js';
import { chunks, INSERT_CHUNK } from './chunks.js';
import type { Db, SqlDialect } from './dialect.js';
import type { HotQueries } from './hot-queries.js';
import { deliveryFromRow } from './rows.js';
import type { HookrelayDatabase } from './schema.js';

/** An endpoint row as the delivery state machine reads it. */
export function endpointState(row: { status: string; deleted_at: number | string | null } | undefined): EndpointState {
  return row && { status: row.status as EndpointStatus, deletedAt: row.deleted_at === null ? null : Number(row.deleted_at) };
}

/** A placement (src/delivery/transitions.ts) as the delivery columns it sets. */
export function placementColumns(p: Placement): { status: DeliveryStatus; next_attempt_at: number | null; completed_at: number | null } {
  return { status: p.status, next_attempt_at: p.nextAttemptAt?.getTime() ?? null, completed_at: p.completedAt?.getTime() ?? null };
}

/**
 * `underLiveLease` (src/delivery/transitions.ts) negated, as SQL: a pending delivery is under a
 * live lease while leased and its lease (the pushed `next_attempt_at`) has not run out.
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

/**
 * `onEndpointChange` (src/delivery/transitions.ts) over all of the endpoint's deliveries in one
 * UPDATE, served by (endpoint_id, status): which rows move is restated as the WHERE, where they
 * land comes from the module. test/storage/transitions-agree.test.ts holds the two equal.
 * Returns how many deliveries moved.
 */
export async function applyEndpointChange(tx: Db, endpointId: string, change: EndpointChange, now: Date): Promise<number> {
  const nowMs = now.getTime();
  const moving = { status: change === 'resumed' ? ('held' as const) : ('pending' as const), nextAttemptAt: null, leaseToken: null };
  const landing = onEndpointChange(change, moving, now) as Placement;
  const result = await tx
    .updateTable('hookrelay_deliveries')
    .set({ ...placementColumns(landing), lease_token: null, updated_at: nowMs })
    .where('endpoint_id', '=', endpointId)
    .where((eb) => {
      const idlePending = eb.and([eb('status', '=', 'pending'), notUnderLiveLease(eb, nowMs)]);
      if (change === 'paused') return idlePending;
      if (change === 'resumed') return eb('status', '=', 'held');
      return eb.or([eb('status', '=', 'held'), idlePending]);
    })
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Records an attempt's outcome on its leased delivery (see `Storage.completeAttempt`). */
export async function completeIn(tx: Db, dialect: SqlDialect, hot: HotQueries, request: CompleteAttemptRequest): Promise<boolean> {
  const { deliveryId, leaseToken, attempt, next, now } = request;
  // The endpoint's state now, not the one the worker saw, decides: it may have been paused,
  // resumed or deleted while the attempt was in flight. FOR SHARE orders us with a concurrent
  // pause or delete (both lock the endpoint row first): either we see it paused, or its hold
  // finds our delivery no longer leased.
  const endpoint = dependsOnEndpoint(next)
    ? await tx
        .selectFrom('hookrelay_deliveries as d')
        .innerJoin('hookrelay_endpoints as e', 'e.id', 'd.endpoint_id')
        .select(['e.status', 'e.deleted_at'])
        .where('d.id', '=', deliveryId)
        .$if(dialect.supportsRowLocks, (qb) => qb.forShare('e'))
        .executeTakeFirst()
    : undefined;
  const placement = placementColumns(settleAttempt(next, endpointState(endpoint), now));
  // The lease guard is in the WHERE: a delivery someone else holds now is left alone.
  const settlement = { deliveryId, leaseToken, status: placement.status, nowMs: now.getTime(), nextAttemptAt: placement.next_attempt_at, completedAt: placement.completed_at };
  const result = await hot.settle(tx, settlement, attempt);
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
    const byStatus = new Map<DeliveryStatus, { placement: Placement; ids: string[] }>();
    const states = new Map<string, EndpointState>();
    for (const row of leased) {
      if (!states.has(row.endpoint_id)) states.set(row.endpoint_id, endpointState(await lockedEndpointState(tx, dialect, row.endpoint_id)));
      const placement = releaseLease(states.get(row.endpoint_id), now);
      let group = byStatus.get(placement.status);
      if (!group) byStatus.set(placement.status, (group = { placement, ids: [] }));
      group.ids.push(row.id);
    }
    for (const { placement, ids: placed } of byStatus.values()) {
      const result = await tx
        .updateTable('hookrelay_deliveries')
        .set({ ...placementColumns(placement), lease_token: null, updated_at: nowMs })
        .where('id', 'in', placed)
        .where('lease_token', '=', leaseToken)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      released += Number(result.numUpdatedRows);
      if (placement.status === 'pending' && Number(result.numUpdatedRows) > 0) madeDue = true;
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
  const endpoint = endpointState(await lockedEndpointState(tx, dialect, row.endpoint_id));
  if (!endpoint || endpoint.deletedAt !== null) return null;
  const delivery = deliveryFromRow(row);
  if (!requeue(delivery, endpoint, now)) return delivery;
  // The row was read unlocked: the update checks again that it is still finished, so a retry
  // or replay that committed meanwhile (and a scheduler that claimed it since) keeps its lease.
  const updated = await resend(tx, endpoint, now)
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
  const row = await lockedEndpointState(tx, dialect, endpointId);
  const endpoint = endpointState(row);
  if (!row || !endpoint || endpoint.deletedAt !== null || row.org_id !== orgId) return 0;
  // Served by (endpoint_id, status); the time range filters within one endpoint's rows.
  const result = await resend(tx, endpoint, now)
    .where('endpoint_id', '=', endpointId)
    .where('status', 'in', statuses)
    .where('created_at', '>=', query.since.getTime())
    .$if(query.until !== undefined, (qb) => qb.where('created_at', '<', (query.until as Date).getTime()))
    .executeTakeFirst();
  const count = Number(result.numUpdatedRows);
  if (count > 0 && resendPlacement(endpoint, now).status === 'pending') await dialect.notify?.(tx);
  return count;
}

/**
 * An UPDATE that sends finished deliveries again, as `requeue` (src/delivery/transitions.ts) says;
 * the caller adds the WHERE, which keeps it to finished rows. The retry schedule restarts here
 * (`requeued_at_attempt` restates `requeuedAtAttempt = attemptCount` per row; the agreement test
 * holds it equal).
 */
function resend(tx: Db, endpoint: EndpointState, now: Date) {
  return tx.updateTable('hookrelay_deliveries').set({
    ...placementColumns(resendPlacement(endpoint, now)),
    requeued_at_attempt: sql<number>`attempt_count`,
    lease_token: null,
    updated_at: now.getTime(),
  });
}
