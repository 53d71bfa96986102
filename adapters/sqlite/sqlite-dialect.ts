import { sql } from 'kysely';
import type { ClaimRequest } from '../../src/storage/storage.js';
import { type Db, excludingEndpoints, type SqlDialect, type TableRef } from '../sql/dialect.js';
import type { DeliveryRow } from '../sql/rows.js';
import { errorCode } from '../sql/transient.js';
import { SqliteWritePath } from './sqlite-write-path.js';

/**
 * SQLite admits one writer at a time. Every write transaction starts with BEGIN IMMEDIATE,
 * which takes the write lock up front: a deferred BEGIN that reads and then writes can find
 * another process committed in between and fail with SQLITE_BUSY_SNAPSHOT, which no busy
 * timeout waits out. With the lock taken first, the busy timeout queues writers instead.
 */
async function immediateTransaction<T>(db: Db, work: (tx: Db) => Promise<T>): Promise<T> {
  // kysely's SQLite driver has one connection behind a mutex: holding it for the whole
  // transaction keeps this process's other statements out of it.
  return db.connection().execute(async (tx) => {
    await sql`BEGIN IMMEDIATE`.execute(tx);
    try {
      const result = await work(tx);
      await sql`COMMIT`.execute(tx);
      return result;
    } catch (error) {
      await sql`ROLLBACK`.execute(tx).catch(() => undefined);
      throw error;
    }
  });
}

/**
 * No SKIP LOCKED and no need for it: inside BEGIN IMMEDIATE nobody else writes. The ids are
 * read first, in due order, from the head of the partial (next_attempt_at, id) index on
 * pending rows, then leased by primary key; RETURNING gives no order, the first read does.
 */
async function claimDue(db: Db, request: ClaimRequest, table: TableRef): Promise<DeliveryRow[]> {
  const now = request.now.getTime();
  return immediateTransaction(db, async (tx) => {
    const due = await sql<{ id: string }>`
      SELECT id FROM ${table('hookrelay_deliveries')}
      WHERE status = 'pending' AND next_attempt_at <= ${now}${excludingEndpoints(request)}
      ORDER BY next_attempt_at, id
      LIMIT ${request.limit}`.execute(tx);
    if (due.rows.length === 0) return [];
    const ids = due.rows.map((r) => r.id);
    const leased = await sql<DeliveryRow>`
      UPDATE ${table('hookrelay_deliveries')}
      SET lease_token = ${request.leaseToken}, next_attempt_at = ${now + request.leaseMs}
      WHERE id IN (${sql.join(ids)})
      RETURNING *`.execute(tx);
    const position = new Map(ids.map((id, i) => [id, i]));
    return leased.rows.sort((a, b) => (position.get(a.id) ?? 0) - (position.get(b.id) ?? 0));
  });
}

const noop = async (): Promise<void> => {};

export const sqliteDialect: SqlDialect = {
  kind: 'sqlite',
  supportsRowLocks: false,
  createWritePath: (context) => new SqliteWritePath(context, sqliteDialect),
  writeTransaction: immediateTransaction,
  // BEGIN IMMEDIATE already serialises every writer, in this process and in any other.
  lockOrg: noop,
  lockMigrations: noop,
  ensureSchema: noop,
  claim: claimDue,
  isTransient(error) {
    const code = errorCode(error);
    return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
  },
  isUniqueViolation(error) {
    const code = errorCode(error);
    return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
  },
  isUnavailable(error) {
    const code = errorCode(error);
    return code !== undefined && (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR'));
  },
};
