import type { Delivery, DeliveryStatus, EndpointRecord, EndpointStatus, PausedReason } from '../model.js';
import type { EndpointPatch, NextDeliveryState } from '../storage/storage.js';

/*
 * The delivery state machine, as pure functions. Every storage and the attempt runner call these
 * instead of restating a rule; a new rule about what happens to a delivery or an endpoint (a
 * health pause, a rate limit, ordered delivery) is one more function here.
 *
 *   pending ── attempt ──▶ succeeded | failed | pending (retry) | held (410 Gone)
 *   pending ── pause ──▶ held ── resume ──▶ pending
 *   pending | held ── delete ──▶ cancelled
 *   succeeded | failed | cancelled ── retry, replay ──▶ pending | held
 */

/** Statuses a delivery leaves only by a manual retry or a replay. */
export const FINISHED_STATUSES = ['succeeded', 'failed', 'cancelled'] as const satisfies readonly DeliveryStatus[];
export type FinishedStatus = (typeof FINISHED_STATUSES)[number];

export function isFinished(status: string): status is FinishedStatus {
  return (FINISHED_STATUSES as readonly string[]).includes(status);
}

/** The fields every transition sets together: where a delivery stands. */
export type Placement = Pick<Delivery, 'status' | 'nextAttemptAt' | 'completedAt'>;

/** What a storage knows of an endpoint when it places a delivery; null or undefined when the endpoint no longer exists. */
export type EndpointState = { status: EndpointStatus; deletedAt: Date | number | null } | null | undefined;

/** A stored delivery's lease: a claim stamps the token and pushes `nextAttemptAt` to the lease's end. */
export type LeaseState = Pick<Delivery, 'status' | 'nextAttemptAt'> & { leaseToken: string | null };

const due = (at: Date): Placement => ({ status: 'pending', nextAttemptAt: at, completedAt: null });
const HELD: Placement = { status: 'held', nextAttemptAt: null, completedAt: null };
const finished = (status: FinishedStatus, now: Date): Placement => ({ status, nextAttemptAt: null, completedAt: now });

/**
 * What an endpoint's state makes of a new or a due delivery: deleted (or gone) → cancelled,
 * paused → held ("events for a paused endpoint are kept, not dropped"), active → pending.
 */
export function verdictOf(endpoint: EndpointState): 'pending' | 'held' | 'cancelled' {
  if (!endpoint || endpoint.deletedAt !== null) return 'cancelled';
  return endpoint.status === 'paused' ? 'held' : 'pending';
}

/** `verdictOf` as a placement: pending due at `dueAt`, cancelled completed at `now`. */
export function placeByEndpoint(endpoint: EndpointState, dueAt: Date, now: Date): Placement {
  const verdict = verdictOf(endpoint);
  if (verdict === 'pending') return due(dueAt);
  return verdict === 'held' ? { ...HELD } : finished('cancelled', now);
}

/**
 * Emit places a delivery from an endpoint read taken before its write. If the endpoint was
 * resumed in between, its release of held deliveries ran before this row existed, and a `held`
 * row would wait for a pause and resume that may never come. So a storage re-places a `held`
 * delivery from the endpoint's state at write time, as of the event's time: still paused → held;
 * active again → pending; deleted → cancelled, as the delete would have done. A `pending`
 * delivery needs no check: the attempt runner holds or cancels it when it finds the endpoint
 * paused or deleted at claim time.
 */
export function placeAtWrite(delivery: Delivery, endpoint: EndpointState): Delivery {
  if (delivery.status !== 'held') return delivery;
  return { ...delivery, ...placeByEndpoint(endpoint, delivery.createdAt, delivery.createdAt) };
}

/** What an attempt's answer makes of its delivery (`next`) and of its endpoint (`pause`). */
export interface AttemptTransition {
  next: NextDeliveryState;
  pause: PausedReason | null;
}

/**
 * - 2xx: succeeded ("only 2xx is success").
 * - 410 Gone: the receiver says the endpoint no longer exists, so the endpoint pauses at once
 *   (`gone`) and the delivery is held with the others: resuming delivers it.
 * - any other answer, or none: pending again at `retryAt()`, the retry policy's time for the
 *   next retry; when it has none left, the delivery fails and the endpoint pauses (`failing`).
 */
export function afterAttempt(statusCode: number | null, retryAt: () => Date | null): AttemptTransition {
  if (statusCode !== null && statusCode >= 200 && statusCode < 300) return { next: { status: 'succeeded' }, pause: null };
  if (statusCode === 410) return { next: { status: 'held' }, pause: 'gone' };
  const at = retryAt();
  if (at === null) return { next: { status: 'failed' }, pause: 'failing' };
  return { next: { status: 'pending', nextAttemptAt: at }, pause: null };
}

/** Whether `settleAttempt(next, …)` reads the endpoint's state: a finished `next` stands on its own. */
export function dependsOnEndpoint(next: NextDeliveryState): boolean {
  return !isFinished(next.status);
}

/**
 * Where a claimed delivery lands when its attempt (or the decision to make none) is recorded at
 * `now`. A finished `next` stands. Otherwise the endpoint's state now, not the one the worker
 * saw, decides, since it may have been paused, resumed or deleted while the attempt was in
 * flight: deleted → cancelled, paused → held, active → pending, due at the retry time, or at
 * `now` when `held` was asked for (the endpoint was resumed meanwhile). `endpoint` is not
 * consulted when `dependsOnEndpoint(next)` is false.
 */
export function settleAttempt(next: NextDeliveryState, endpoint: EndpointState, now: Date): Placement {
  if (isFinished(next.status)) return finished(next.status, now);
  return placeByEndpoint(endpoint, next.status === 'pending' ? next.nextAttemptAt : now, now);
}

/** A delivery handed back unattempted (`releaseLeases`) is due at `now`, or held or cancelled as its endpoint now is. */
export function releaseLease(endpoint: EndpointState, now: Date): Placement {
  return placeByEndpoint(endpoint, now, now);
}

/** True while an attempt may be in flight: leased, and the lease has not run out at `now`. */
export function underLiveLease(delivery: LeaseState, now: Date): boolean {
  return delivery.leaseToken !== null && delivery.nextAttemptAt !== null && delivery.nextAttemptAt.getTime() > now.getTime();
}

export type EndpointChange = 'paused' | 'resumed' | 'deleted';

/**
 * What a change of its endpoint makes of a delivery; null leaves it as it is. A pending
 * delivery under a live lease has an attempt in flight: it stays pending, and recording the
 * attempt settles it (`settleAttempt`). Storages clear the lease of a delivery they move.
 * - paused: pending → held.
 * - resumed: held → pending, due at `now`.
 * - deleted: held or pending → cancelled.
 */
export function onEndpointChange(change: EndpointChange, delivery: LeaseState, now: Date): Placement | null {
  const idlePending = delivery.status === 'pending' && !underLiveLease(delivery, now);
  if (change === 'paused') return idlePending ? { ...HELD } : null;
  if (change === 'resumed') return delivery.status === 'held' ? due(now) : null;
  return idlePending || delivery.status === 'held' ? finished('cancelled', now) : null;
}

/** Where a re-sent delivery (manual retry, replay) lands: due at `now`, held while its endpoint is paused. */
export function resendPlacement(endpoint: EndpointState, now: Date): Placement {
  return placeByEndpoint(endpoint, now, now);
}

/**
 * A manual retry or a replay: a finished delivery is sent again (`resendPlacement`), and its
 * retry schedule restarts from here (`requeuedAtAttempt`). A pending or held delivery is left as
 * it is (null). The caller answers for a deleted endpoint.
 */
export function requeue(delivery: Pick<Delivery, 'status' | 'attemptCount'>, endpoint: EndpointState, now: Date): (Placement & { requeuedAtAttempt: number }) | null {
  if (!isFinished(delivery.status)) return null;
  return { ...resendPlacement(endpoint, now), requeuedAtAttempt: delivery.attemptCount };
}

/**
 * The statuses a replay re-sends: the finished status asked for (none for another), or by
 * default succeeded and failed; a cancelled delivery was stopped on purpose, so only when asked.
 */
export function replayedStatuses(asked: DeliveryStatus | undefined): FinishedStatus[] {
  if (asked === undefined) return ['succeeded', 'failed'];
  return isFinished(asked) ? [asked] : [];
}

/**
 * The endpoint after `patch` at `now` (a copy: neither argument is changed), and the change of
 * status its deliveries follow (`onEndpointChange`). An active endpoint carries no paused reason.
 */
export function applyPatch(endpoint: EndpointRecord, patch: EndpointPatch, now: Date): { endpoint: EndpointRecord; change: 'paused' | 'resumed' | null } {
  const next: EndpointRecord = { ...endpoint, updatedAt: now };
  if (patch.url !== undefined) next.url = patch.url;
  if (patch.events !== undefined) next.events = [...patch.events];
  if (patch.description !== undefined) next.description = patch.description;
  if (patch.filter !== undefined) next.filter = patch.filter ? { ...patch.filter } : null;
  if (patch.status !== undefined) next.status = patch.status;
  if (patch.pausedReason !== undefined) next.pausedReason = patch.pausedReason;
  if (next.status === 'active') next.pausedReason = null;
  return { endpoint: next, change: statusChange(endpoint.status, next.status) };
}

/**
 * Pausing for `reason` (exhausted retries, 410 Gone): only an active, live endpoint pauses, so of
 * several racing callers exactly one gets the paused endpoint and reports it; the others get null.
 */
export function pauseFor(endpoint: EndpointRecord, reason: PausedReason, now: Date): EndpointRecord | null {
  if (endpoint.deletedAt !== null || endpoint.status !== 'active') return null;
  return { ...endpoint, status: 'paused', pausedReason: reason, updatedAt: now };
}

function statusChange(before: EndpointStatus, after: EndpointStatus): 'paused' | 'resumed' | null {
  if (before === after) return null;
  return after === 'paused' ? 'paused' : 'resumed';
}
