import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type { Db } from '../sql/dialect.js';
import type { HookrelayDatabase } from '../sql/schema.js';
import { SqlStorage } from '../sql/sql-storage.js';
import type { RetryPolicy } from '../sql/transient.js';
import { sqliteDialect } from './sqlite-dialect.js';

export type { SqlStorage } from '../sql/sql-storage.js';
export type { RetryPolicy } from '../sql/transient.js';

export interface SqliteFileOptions {
  /** Path of the database file; created when missing. hookrelay opens and closes it. */
  filename: string;
  /**
   * SQLite's `busy_timeout`: how long one try waits for another connection's write lock, in ms.
   * Default 10. better-sqlite3 waits it out synchronously, stalling the whole event loop, and a
   * lock held by a connection of this same process (your app's, in the transactional outbox)
   * cannot be released meanwhile. So hookrelay waits for a lock mostly between tries, with the
   * event loop free: see `retry`, whose SQLite default allows about 5 s in all.
   */
  busyTimeoutMs?: number;
}

export interface SqliteDatabaseOptions {
  /**
   * A better-sqlite3 `Database` the host already opened (typed structurally, so this module
   * never loads better-sqlite3 itself). The host keeps ownership: `close()` leaves it open.
   * Its pragmas are the host's too: set `journal_mode = WAL`, `synchronous = NORMAL` and a short
   * `busy_timeout` (10 ms), as `{ filename }` does, for the same crash safety and concurrency.
   */
  database: SqliteDatabase;
}

export type SqliteStorageOptions = (SqliteFileOptions | SqliteDatabaseOptions) & {
  /** Backoff for SQLITE_BUSY, waited with the event loop free. Default: 10 retries from 10 ms, at most 1 s apart (about 5 s in all). */
  retry?: RetryPolicy;
};

/** SQLITE_BUSY is waited out between tries rather than in `busy_timeout` (see `busyTimeoutMs`). */
const SQLITE_RETRY: Required<RetryPolicy> = { retries: 10, minTimeoutMs: 10, maxTimeoutMs: 1000 };
const DEFAULT_BUSY_TIMEOUT_MS = 10;

/**
 * Storage in one SQLite file through better-sqlite3: the embedded default, no server to run.
 * The file is opened in WAL mode (readers never wait for the writer) with synchronous=NORMAL,
 * which survives a process crash (`kill -9`) at any moment; only an OS crash or power loss can
 * cost the last commits. Call `migrate()` once before use.
 */
export function sqliteStorage(options: SqliteStorageOptions): SqlStorage {
  const ownsDb = 'filename' in options;
  const database = 'filename' in options ? async () => withStatementCache(await openFile(options.filename, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS)) : withStatementCache(options.database);
  const db: Db = new Kysely<HookrelayDatabase>({ dialect: new SqliteDialect({ database }) });
  const retry: RetryPolicy = {
    retries: options.retry?.retries ?? SQLITE_RETRY.retries,
    minTimeoutMs: options.retry?.minTimeoutMs ?? SQLITE_RETRY.minTimeoutMs,
    maxTimeoutMs: options.retry?.maxTimeoutMs ?? SQLITE_RETRY.maxTimeoutMs,
  };
  return new SqlStorage({ dialect: sqliteDialect, db, ownsDb, retry });
}

async function openFile(filename: string, busyTimeoutMs: number): Promise<SqliteDatabase> {
  const { default: Database } = await import('better-sqlite3');
  const database = new Database(filename);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  // Each checkpoint syncs the database file; the default (every 1000 pages, ~4 MB of WAL) makes
  // that a frequent stall under a steady stream of small commits.
  database.pragma('wal_autocheckpoint = 10000');
  database.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  return database;
}

/** Distinct statements kept prepared; hookrelay issues a few dozen shapes, IN lists add more. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * kysely prepares every statement anew; preparing costs as much as running a small one. The
 * same few statement texts recur on every emit and attempt, so they are prepared once.
 */
function withStatementCache(database: SqliteDatabase): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(text: string): SqliteStatement {
      let statement = cache.get(text);
      if (!statement) {
        statement = database.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
        cache.set(text, statement);
      }
      return statement;
    },
  };
}
