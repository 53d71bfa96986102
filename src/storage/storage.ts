import type {
  Attempt,
  Delivery,
  DeliveryStatus,
  DeliveryWithAttempts,
  EndpointFilter,
  EndpointRecord,
  EndpointSecret,
  EndpointStatus,
  PausedReason,
  WebhookEvent,
} from '../model.js';

/** Changes `updateEndpoint` may apply; absent keys are left as they are. */
export interface EndpointPatch {
  url?: string;
  events?: string[];
  description?: string | null;
  filter?: EndpointFilter | null;
  status?: EndpointStatus;
  /** Set together with `status`: `manual` when pausing by hand, null when resuming. */
  pausedReason?: PausedReason | null;
}

export interface ListEndpointsQuery {
  limit: number;
  /** Return endpoints strictly older than this id (ids sort by creation time). */
  beforeId?: string;
}

export interface NewEventWrite {
  event: WebhookEvent;
  /** One per matching endpoint, `pending` or `held` as the endpoint read before the write said. */
  deliveries: Delivery[];
}

export interface InsertEventResult {
  event: WebhookEvent;
  deliveries: Delivery[];
  /** false when an event with the same org and idempotency key existed; nothing was written. */
  created: boolean;
}

export interface WriteOptions {
  /**
   * A transaction of the host's own on the same database (for SQL storages, a kysely
   * `Transaction`). The write joins it and commits or rolls back with the host's work.
   */
  transaction?: unknown;
}

export interface ClaimRequest {
  now: Date;
  /** Claim at most this many. */
  limit: number;
  /** How long the claim holds before the delivery becomes due again for anyone. */
  leaseMs: number;
  /** Stamped on every claimed delivery; `completeAttempt` must present it. */
  leaseToken: string;
  /**
   * Skip deliveries of these endpoints (the caller already holds enough of them). Optional: a
   * storage that ignores it stays correct, the caller only queues more for those endpoints.
   */
  excludeEndpointIds?: readonly string[];
}

/** A claimed delivery with everything needed to send it, read in the same step as the claim. */
export interface ClaimedDelivery {
  delivery: Delivery;
  event: WebhookEvent;
  endpoint: EndpointRecord;
  leaseToken: string;
}

/** The state a delivery moves to after an attempt. */
export type NextDeliveryState =
  | { status: 'pending'; nextAttemptAt: Date }
  | { status: 'succeeded' }
  | { status: 'failed' }
  | { status: 'held' }
  | { status: 'cancelled' };

export interface CompleteAttemptRequest {
  deliveryId: string;
  leaseToken: string;
  /** null when no HTTP attempt was made (e.g. the endpoint was found paused or deleted at claim time). */
  attempt: Attempt | null;
  next: NextDeliveryState;
  now: Date;
}

export interface ListDeliveriesQuery {
  endpointId?: string;
  eventId?: string;
  status?: DeliveryStatus;
  /** Inclusive lower bound on `createdAt`. */
  since?: Date;
  /** Exclusive upper bound on `createdAt`. */
  until?: Date;
  limit: number;
  /** Return deliveries strictly older than this id. */
  beforeId?: string;
}

export interface ReplayQuery {
  since: Date;
  until?: Date;
  /** Only deliveries in this state; default: succeeded and failed. */
  status?: DeliveryStatus;
}

export interface PruneQuery {
  /** Finished deliveries completed before this instant are deleted with their attempts. */
  olderThan: Date;
}

export interface PruneResult {
  deliveries: number;
  attempts: number;
  events: number;
}

/**
 * Where hookrelay keeps endpoints, events, deliveries and attempts.
 *
 * Every method is atomic: it either applies all of its writes or none. Every org-scoped
 * method treats another org's rows, and soft-deleted endpoints, as absent. A write that changes
 * a row's state sets its `updatedAt` to the `now` it was given. A delivery "under a live lease"
 * (leased, lease not yet run out at `now`) has an attempt in flight: pausing or deleting its
 * endpoint leaves it pending, and `completeAttempt` then stores it as held or cancelled.
 * Implementations must pass the storage conformance suite in `test/storage/conformance.ts` unchanged.
 */
export interface Storage {
  /** A short name for logs and benchmarks (`memory`, `sqlite`, `postgres`). */
  readonly kind: string;

  /** Creates or upgrades the schema. Idempotent; safe when several processes call it at once. */
  migrate(): Promise<void>;

  /** Releases connections and timers the storage owns (not ones the host passed in). */
  close(): Promise<void>;

  // ---- endpoints ----

  /**
   * Inserts an endpoint unless the org already holds `maxPerOrg` non-deleted endpoints,
   * in which case it writes nothing and throws `WebhookError('LIMIT_EXCEEDED')`.
   * The count and the insert are one atomic step: concurrent creates never overshoot.
   */
  createEndpoint(record: EndpointRecord, limits: { maxPerOrg: number }): Promise<EndpointRecord>;

  /** The non-deleted endpoint `id` of `orgId`, or null. */
  getEndpoint(orgId: string, id: string): Promise<EndpointRecord | null>;

  /** Non-deleted endpoints of `orgId`, newest first (by id), at most `limit`. */
  listEndpoints(orgId: string, query: ListEndpointsQuery): Promise<EndpointRecord[]>;

  /**
   * Non-deleted endpoints of `orgId` subscribed to `eventType`, paused ones included
   * (their deliveries are written as held). Filters are applied by the caller.
   */
  listSubscribedEndpoints(orgId: string, eventType: string): Promise<EndpointRecord[]>;

  /**
   * Applies `patch` and sets `updatedAt = now`. When the status changes in the same step:
   * active → paused turns the endpoint's pending deliveries into held ones; paused → active
   * makes its held deliveries pending and due at `now`. Returns null when absent.
   */
  updateEndpoint(orgId: string, id: string, patch: EndpointPatch, now: Date): Promise<EndpointRecord | null>;

  /**
   * Pauses endpoint `id` (any org) only if it is active and not deleted, holding its pending
   * deliveries. Returns the paused endpoint when this call made the change, null otherwise,
   * so exactly one of several racing callers learns it paused the endpoint.
   */
  pauseEndpoint(id: string, reason: PausedReason, now: Date): Promise<EndpointRecord | null>;

  /**
   * Soft-deletes: sets `deletedAt`, and cancels the endpoint's held deliveries and its pending
   * ones not under a live lease (`completedAt = now`). Returns false when absent (or already deleted).
   */
  deleteEndpoint(orgId: string, id: string, now: Date): Promise<boolean>;

  /**
   * Makes `secret` the endpoint's current secret. The previous current secret expires at
   * `previousExpiresAt`; secrets already expired at `now` are dropped, and at most the 2 newest
   * rotated-out ones are kept: the list is what `rotateSecrets` returns. Returns null when absent.
   */
  rotateSecret(orgId: string, id: string, secret: EndpointSecret, previousExpiresAt: Date, now: Date): Promise<EndpointRecord | null>;

  // ---- events and deliveries ----

  /**
   * Writes the event and its deliveries in one atomic step. If the event has an idempotency
   * key already used in its org, writes nothing and returns the first event with its
   * deliveries and `created: false` (also when two such writes race). A delivery marked
   * `held` is re-decided from its endpoint's state at the write, ordered with a concurrent
   * resume or delete (`placeAtWrite` in delivery/transitions.ts): active → pending due at the event's time,
   * deleted → cancelled, paused → held. The result carries the states written.
   */
  insertEvent(write: NewEventWrite, options?: WriteOptions): Promise<InsertEventResult>;

  /** The event `id` of `orgId`, or null. */
  getEvent(orgId: string, id: string): Promise<WebhookEvent | null>;

  /**
   * Claims up to `limit` pending deliveries due at `now` (oldest due first), stamping
   * `leaseToken` and pushing `nextAttemptAt` to `now + leaseMs`. A delivery whose lease ran
   * out is therefore due again without any other step: a crashed worker loses nothing.
   * Concurrent claimers never receive the same delivery under a live lease. A pending delivery
   * whose endpoint was paused or deleted while it was leased is claimed like any other, with
   * the endpoint as it now is, so the worker settles it (`completeAttempt` with no attempt).
   */
  claimDueDeliveries(request: ClaimRequest): Promise<ClaimedDelivery[]>;

  /**
   * Records `attempt` (when given), increments `attemptCount` for it, and moves the delivery
   * to `next`, in one atomic step guarded by the lease: if the delivery no longer carries
   * `leaseToken` (the lease expired and someone else claimed it), writes nothing and returns
   * false. Clears the lease. For `pending` and `held`, the endpoint's state at completion
   * decides: deleted → `cancelled`, paused → `held`, active → `pending` (due at `now` when
   * `held` was asked for, since the endpoint was resumed meanwhile). Finished states set `completedAt = now`.
   */
  completeAttempt(request: CompleteAttemptRequest): Promise<boolean>;

  /**
   * Optional capability: `completeAttempt(request)` and, only if that recorded it,
   * `pauseEndpoint(endpointId, reason)`, in one atomic step, so a crash can never record an
   * exhausting (or `410 Gone`) attempt without the pause. `paused` is the endpoint when this call
   * paused it, null when it was paused or deleted already or the lease was lost. Storages without
   * it are driven through the two calls in turn.
   */
  completeAttemptAndPause?(request: CompleteAttemptRequest, pause: { endpointId: string; reason: PausedReason }): Promise<{ recorded: boolean; paused: EndpointRecord | null }>;

  /**
   * Gives back claimed deliveries that were never attempted (e.g. on `stop()`), due at `now`
   * (held or cancelled when the endpoint was paused or deleted meanwhile). Guarded by the lease
   * token like `completeAttempt`. Returns how many were released.
   */
  releaseLeases(deliveryIds: string[], leaseToken: string, now: Date): Promise<number>;

  /** The earliest `nextAttemptAt` among pending deliveries, or null; lets an idle scheduler sleep exactly. */
  nextDueAt(): Promise<Date | null>;

  /** Deliveries of `orgId` matching the query, newest first (by id). */
  listDeliveries(orgId: string, query: ListDeliveriesQuery): Promise<Delivery[]>;

  /** Delivery `id` of `orgId` with its attempts (oldest first), or null. */
  getDelivery(orgId: string, id: string): Promise<DeliveryWithAttempts | null>;

  /**
   * Makes a finished delivery (succeeded, failed or cancelled while its endpoint still exists)
   * pending and due at `now`, or held when its endpoint is paused. A delivery already pending
   * or held is left as it is. Returns the delivery, or null when absent or its endpoint is deleted.
   */
  retryDelivery(orgId: string, id: string, now: Date): Promise<Delivery | null>;

  /**
   * Re-enqueues the endpoint's finished deliveries created in [since, until) (status per
   * query), as `retryDelivery` does one. Returns how many were re-enqueued.
   */
  replayDeliveries(orgId: string, endpointId: string, query: ReplayQuery, now: Date): Promise<number>;

  /**
   * Deletes finished deliveries completed before `olderThan` with their attempts, then every event
   * created before `olderThan` that has no delivery left (which frees its idempotency key).
   */
  prune(query: PruneQuery): Promise<PruneResult>;

  /**
   * Optional capability: calls `listener` when another process (or connection) wrote new due
   * work, so idle schedulers wake at once. Returns an unsubscribe function. Storages without
   * cross-process notification omit it; the scheduler then relies on local wake-ups and polling.
   */
  subscribe?(listener: () => void): () => void;
}
