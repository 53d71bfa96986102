import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { ClaimRequest } from '../../src/storage/storage.js';
import type { DeliveryRow } from './rows.js';
import type { HookrelayDatabase, TableName } from './schema.js';
import type { ErrorClassifier } from './transient.js';
import type { WritePath, WritePathContext } from './write-path.js';

export type Db = Kysely<HookrelayDatabase>;

/** A table reference for raw SQL, qualified with the storage's schema when it has one. */
export type TableRef = (name: TableName) => RawBuilder<unknown>;

/**
 * What differs between SQL engines, as a handful of capabilities (the way kysely's
 * `DialectAdapter` does it) so the shared storage never asks "am I on Postgres?".
 */
export interface SqlDialect extends ErrorClassifier {
  readonly kind: 'sqlite' | 'postgres';

  /**
   * Row locks (`FOR UPDATE` / `FOR SHARE`) exist and matter: several connections write at once.
   * SQLite has none; its immediate transactions already admit one writer at a time.
   */
  readonly supportsRowLocks: boolean;

  /** The engine's write path: how writes are committed, and which calls share a round trip. */
  createWritePath(context: WritePathContext): WritePath;

  /** Runs `work` in a transaction that holds the write lock (SQLite) or may take row locks (Postgres). */
  writeTransaction<T>(db: Db, work: (tx: Db) => Promise<T>): Promise<T>;

  /** Serialises endpoint creation within one org across every connection and process. */
  lockOrg(tx: Db, orgId: string): Promise<void>;

  /** Serialises migrators, so processes starting together migrate once. Held until the transaction ends. */
  lockMigrations(tx: Db): Promise<void>;

  /** Creates the schema the tables live in, when the storage has one. */
  ensureSchema(tx: Db): Promise<void>;

  /**
   * Claims due deliveries and returns their rows oldest-due first, each stamped with the lease.
   * One atomic step; concurrent claimers never receive the same row.
   */
  claim(db: Db, request: ClaimRequest, table: TableRef): Promise<DeliveryRow[]>;

  /** Wakes schedulers in other processes when the surrounding transaction commits; absent when the engine cannot. */
  notify?(tx: Db): Promise<void>;
}

/**
 * The claim's optional filter on endpoints the scheduler already holds enough of. It filters
 * rows while the due index is walked, so the claim still reads the index in due order.
 */
export function excludingEndpoints(request: ClaimRequest): RawBuilder<unknown> {
  const ids = request.excludeEndpointIds;
  return ids && ids.length > 0 ? sql` AND endpoint_id NOT IN (${sql.join([...ids])})` : sql``;
}
