import type { Attempt } from '../../src/model.js';
import type { InsertEventResult, NewEventWrite } from '../../src/storage/storage.js';
import type { Db, TableRef } from './dialect.js';
import type { HotQueries } from './hot-queries.js';
import type { EndpointRow } from './rows.js';

/** What the shared storage lends an engine's write path. */
export interface WritePathContext {
  /** The kysely instance, pointed at the storage's schema. */
  readonly db: Db;
  /** Table references qualified with the storage's schema, for `sql` templates. */
  readonly table: TableRef;
  readonly hot: HotQueries;
  /** Runs `work`, retrying transient failures; rejects once the storage is closed. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** A whole emit inside `tx` (held-at-write, the event's rows, the answer for a conflicting event). */
  insertEventIn(tx: Db, write: NewEventWrite): Promise<InsertEventResult>;
}

/** An attempt that finished its delivery (succeeded, failed or cancelled), with the lease it ran under. */
export interface FinishedAttempt {
  deliveryId: string;
  leaseToken: string;
  status: string;
  nowMs: number;
  attempt: Attempt;
}

/**
 * How one engine gets writes to disk. The shared storage decides what each operation writes;
 * the write path decides how it is committed and which calls share a round trip. The optional
 * methods are fast paths: where an engine has none, the storage runs the operation in `write`.
 */
export interface WritePath {
  /** Runs `work` in a write transaction: all or nothing, durable once it resolves. Retried whole on transient failures. */
  write<T>(work: (tx: Db) => Promise<T>): Promise<T>;

  /**
   * Writes the event row and its deliveries inside `tx` (wakes schedulers where the engine can).
   * False when the event row conflicted (an idempotency key or id already stored) and nothing
   * was written. A clashing delivery id throws the driver's unique violation.
   */
  writeEventRows(tx: Db, write: NewEventWrite, inHostTransaction: boolean): Promise<boolean>;

  /** Runs an emit inside the host's transaction so that, when it throws, nothing of it stays there. */
  inHostTransaction<T>(tx: Db, work: () => Promise<T>): Promise<T>;

  /** The org's live endpoints, ordered by id. */
  liveEndpoints(orgId: string): Promise<EndpointRow[]>;

  /** An emit whose deliveries are all pending, outside any host transaction; the same answer as `insertEvent`. */
  insertEvent?(write: NewEventWrite): Promise<InsertEventResult>;

  /** Records a finished attempt; the same answer as `completeAttempt` (false: the lease was not ours). */
  settleFinished?(finished: FinishedAttempt): Promise<boolean>;

  /** Cancels pending timers; the storage is closing. */
  close(): void;
}
