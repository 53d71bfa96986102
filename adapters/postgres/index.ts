import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import { WebhookError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import type { Db } from '../sql/dialect.js';
import type { HookrelayDatabase } from '../sql/schema.js';
import { SqlStorage } from '../sql/sql-storage.js';
import type { RetryPolicy } from '../sql/transient.js';
import { notifyChannel, postgresDialect } from './postgres-dialect.js';
import { type ListenPool, PgNotifier } from './postgres-listener.js';

export type { SqlStorage } from '../sql/sql-storage.js';
export type { RetryPolicy } from '../sql/transient.js';

export interface PostgresConnectionStringOptions {
  /** hookrelay opens (lazily, on first use) and closes its own pg Pool. */
  connectionString: string;
  /** Pool size. Default 10. */
  max?: number;
}

export interface PostgresPoolOptions {
  /**
   * A pg `Pool` the host already runs (typed structurally, so this module never loads pg).
   * The host keeps ownership: `close()` leaves it open. One of its connections is held for
   * LISTEN while a scheduler is subscribed.
   */
  pool: PostgresPool;
}

export interface PostgresKyselyOptions {
  /**
   * A kysely instance (PostgresDialect) the host already uses. The host keeps ownership.
   * kysely exposes no raw connection to LISTEN on, so schedulers fall back to polling
   * unless `listenPool` is given too.
   */
  db: Kysely<any>;
  /** A pg Pool on the same database for the LISTEN connection. */
  listenPool?: PostgresPool;
}

export type PostgresStorageOptions = (PostgresConnectionStringOptions | PostgresPoolOptions | PostgresKyselyOptions) & {
  /** Schema holding hookrelay's tables, created by `migrate()`. Default: the connection's search_path. */
  schema?: string;
  /** Backoff for serialization failures, deadlocks and dropped connections. Default: 5 retries from 25 ms. */
  retry?: RetryPolicy;
  /** LISTEN for wake-ups from other processes (writes always NOTIFY). Default true. */
  notifications?: boolean;
  /** Where LISTEN reconnects are reported. */
  logger?: Logger;
};

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Storage in Postgres for hosts running many processes: any number of schedulers share one
 * backlog. Claims use `FOR UPDATE SKIP LOCKED`; LISTEN/NOTIFY wakes idle schedulers in every
 * process when work is written anywhere; the endpoint cap holds across processes through an
 * advisory lock per org. Call `migrate()` once before use (concurrent callers migrate once).
 */
export function postgresStorage(options: PostgresStorageOptions): SqlStorage {
  const schema = options.schema;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new WebhookError('VALIDATION_FAILED', 'invalid postgres schema name', {
      details: { schema: 'must be letters, digits and underscores, starting with a letter or underscore, at most 63 characters' },
    });
  }
  const dialect = postgresDialect(schema);
  let db: Db;
  let ownsDb = false;
  let listenPool: (() => Promise<ListenPool>) | undefined;
  if ('connectionString' in options) {
    const pool = lazyPool(options.connectionString, options.max ?? 10);
    db = new Kysely<HookrelayDatabase>({ dialect: new PostgresDialect({ pool: async () => guardedPool(await pool()) }) });
    ownsDb = true;
    listenPool = pool as unknown as () => Promise<ListenPool>;
  } else if ('pool' in options) {
    db = new Kysely<HookrelayDatabase>({ dialect: new PostgresDialect({ pool: guardedPool(options.pool) }) });
    const pool = options.pool as unknown as ListenPool;
    listenPool = async () => pool;
  } else {
    db = options.db as Db;
    const pool = options.listenPool as unknown as ListenPool | undefined;
    listenPool = pool ? async () => pool : undefined;
  }
  const notifier = options.notifications !== false && listenPool ? new PgNotifier(listenPool, notifyChannel(schema), options.logger) : undefined;
  // A host-owned pool must outlive us: destroying this kysely would end it.
  return new SqlStorage({ dialect, db, schema, ownsDb, retry: options.retry, notifier });
}

/** Opens a pg Pool on first use, so importing this module never loads pg. */
function lazyPool(connectionString: string, max: number): () => Promise<PostgresPool> {
  let pool: Promise<PostgresPool> | undefined;
  return () => {
    pool ??= import('pg').then(({ default: pg }) => {
      const created = new pg.Pool({ connectionString, max });
      // An idle client whose server went away emits here; without a listener that would crash the
      // host. The next query reconnects (and is retried if it fails transiently).
      created.on('error', () => undefined);
      return created as unknown as PostgresPool;
    });
    return pool;
  };
}

const GUARDED = Symbol('hookrelay.errorGuard');

/**
 * pg emits 'error' on a client whose connection breaks; pg-pool listens only while the client
 * is idle, and kysely not at all, so a server restart during a query would crash the host with
 * an uncaught exception. Every client we check out gets a permanent listener: the failure still
 * rejects the query in flight, which the transient-error retry then handles.
 */
function guardedPool(pool: PostgresPool): PostgresPool {
  // kysely 0.29 cancels a query through a separate connection made with the pool's `Client` and
  // `options` (0.28's pool type has neither, hence the casts).
  const { Client, options } = pool as { Client?: unknown; options?: object };
  const wrapper = {
    ...(Client === undefined ? {} : { Client }),
    options: options ?? {},
    async connect() {
      const client = await pool.connect();
      const guarded = client as typeof client & { [GUARDED]?: true; on?: (event: 'error', listener: () => void) => unknown };
      if (!guarded[GUARDED] && typeof guarded.on === 'function') {
        guarded.on('error', () => undefined);
        guarded[GUARDED] = true;
      }
      return client;
    },
    end: () => pool.end(),
  };
  return wrapper as PostgresPool;
}
