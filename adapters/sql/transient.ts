import pRetry from 'p-retry';
import { WebhookError } from '../../src/errors.js';

/** How a storage retries a statement that failed for a reason that may pass on its own. */
export interface RetryPolicy {
  /** Retries after the first try. Default 5. */
  retries?: number;
  /** First backoff in ms, doubled each time up to `maxTimeoutMs`. Default 25. */
  minTimeoutMs?: number;
  /** Default 1000. */
  maxTimeoutMs?: number;
}

/** What a dialect knows about its driver's errors. */
export interface ErrorClassifier {
  /** The statement did not take effect and trying again may succeed (busy, deadlock, dropped connection). */
  isTransient(error: unknown): boolean;
  /** The database could not be reached at all. */
  isUnavailable(error: unknown): boolean;
  /** A unique or primary-key constraint refused the write. */
  isUniqueViolation(error: unknown): boolean;
}

const NODE_CONNECTION_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** A socket-level failure on the way to a database server. */
export function isConnectionError(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined && NODE_CONNECTION_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(message);
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Runs `work` and retries it with exponential backoff while it fails transiently. Callers pass
 * only work that is safe to repeat: a whole transaction that rolled back, or a write made
 * idempotent (see `completeAttempt`), so a retry after a commit the client never saw cannot
 * double anything. When the database stays unreachable the failure becomes
 * `WebhookError('STORAGE_UNAVAILABLE')` with the driver's error as its cause.
 */
export async function withTransientRetry<T>(work: () => Promise<T>, classifier: ErrorClassifier, policy: RetryPolicy = {}): Promise<T> {
  // The first try runs bare: p-retry's bookkeeping costs more than a small query, and almost
  // every call succeeds at once.
  try {
    return await work();
  } catch (error) {
    if (!classifier.isTransient(error) || (policy.retries ?? 5) === 0) throw asStorageError(error, classifier);
  }
  // p-retry runs its first attempt at once: the backoff before the first retry is waited here.
  const minTimeout = policy.minTimeoutMs ?? 25;
  await new Promise((resolve) => setTimeout(resolve, minTimeout * (1 + Math.random())));
  try {
    return await pRetry(work, {
      retries: Math.max(0, (policy.retries ?? 5) - 1),
      minTimeout,
      maxTimeout: policy.maxTimeoutMs ?? 1000,
      factor: 2,
      randomize: true,
      shouldRetry: ({ error }) => classifier.isTransient(error),
    });
  } catch (error) {
    throw asStorageError(error, classifier);
  }
}

/** Wraps unreachable/busy-database failures in a typed error; anything else passes through. */
export function asStorageError(error: unknown, classifier: ErrorClassifier): unknown {
  if (error instanceof WebhookError) return error;
  if (classifier.isUnavailable(error) || classifier.isTransient(error)) {
    return new WebhookError('STORAGE_UNAVAILABLE', 'the webhook database is unavailable; try again later', { cause: error });
  }
  return error;
}
