/** Values an endpoint filter may compare against the same key of an event's `data`. */
export type FilterValue = string | number | boolean;
export type EndpointFilter = Record<string, FilterValue>;

export const ENDPOINT_STATUSES = ['active', 'paused'] as const;
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];
/** Why an endpoint is paused: by its owner, by exhausted retries, or by a `410 Gone` answer. */
export type PausedReason = 'manual' | 'failing' | 'gone';

/** A subscriber's endpoint as hosts and their customers see it. It never carries a secret. */
export interface Endpoint {
  id: string;
  orgId: string;
  url: string;
  events: string[];
  description: string | null;
  apiVersion: string;
  filter: EndpointFilter | null;
  status: EndpointStatus;
  pausedReason: PausedReason | null;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

/** A signing secret. The newest is used first; an older one keeps signing until `expiresAt`. */
export interface EndpointSecret {
  secret: string;
  createdAt: Date;
  /** null for the current secret; set on a rotated-out secret to the end of its grace period. */
  expiresAt: Date | null;
}

/** What storage keeps for an endpoint: the public fields plus its secrets. Never leaves the core. */
export interface EndpointRecord extends Endpoint {
  secrets: EndpointSecret[];
}

export interface WebhookEvent {
  id: string;
  orgId: string;
  type: string;
  data: unknown;
  idempotencyKey: string | null;
  createdAt: Date;
}

/**
 * - `pending`: due at `nextAttemptAt` (a claimed delivery stays pending; its lease pushes `nextAttemptAt` forward)
 * - `held`: its endpoint is paused; resuming the endpoint makes it pending again
 * - `succeeded`: a 2xx was received
 * - `failed`: every attempt of the retry schedule failed
 * - `cancelled`: its endpoint was deleted before it succeeded
 */
export const DELIVERY_STATUSES = ['pending', 'held', 'succeeded', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface Delivery {
  id: string;
  orgId: string;
  eventId: string;
  endpointId: string;
  eventType: string;
  status: DeliveryStatus;
  /** Attempts made so far (the retry counter). */
  attemptCount: number;
  /**
   * `attemptCount` when a manual retry or a replay last re-enqueued the delivery (0 if never).
   * The retry schedule, and the pause once it is exhausted, count attempts from here, so a
   * re-sent delivery gets the whole schedule again instead of failing on its first error.
   */
  requeuedAtAttempt: number;
  /** When the next attempt is due; null once finished or held. */
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: AttemptErrorKind | null;
  createdAt: Date;
  updatedAt: Date;
  /** When the delivery reached succeeded, failed or cancelled. */
  completedAt: Date | null;
}

/** Why an attempt failed without a usable HTTP answer, or why its answer counted as a failure. */
export type AttemptErrorKind =
  | 'http' // a non-2xx status
  | 'redirect' // a 3xx: redirects are never followed
  | 'timeout'
  | 'refused'
  | 'reset'
  | 'dns'
  | 'blocked' // refused by the SSRF guard
  | 'tls'
  | 'network' // anything else below HTTP
  | 'internal'; // the request could not be built (e.g. a custom signing scheme threw): nothing was sent

export interface Attempt {
  id: string;
  deliveryId: string;
  orgId: string;
  endpointId: string;
  /** 1 for the first attempt. */
  attemptNumber: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  errorKind: AttemptErrorKind | null;
  /** Short, human-readable cause (never a secret). */
  errorMessage: string | null;
  /** The first bytes of the response body (at most 4 KiB). */
  responseExcerpt: string | null;
}

export interface DeliveryWithAttempts extends Delivery {
  attempts: Attempt[];
}

/** One page of a newest-first listing. `nextCursor` is null on the last page. */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}
