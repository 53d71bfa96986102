import { sql } from 'kysely';
import type { ClaimRequest } from '../../src/storage/storage.js';
import { type Db, excludingEndpoints, type SqlDialect, type TableRef } from '../sql/dialect.js';
import type { DeliveryRow } from '../sql/rows.js';
import { errorCode, isConnectionError } from '../sql/transient.js';
import { PostgresWritePath } from './postgres-write-path.js';

/**
 * SQLSTATEs after which the transaction did not commit and trying again may work:
 * serialization failure, deadlock, an administrator or crash shutdown, a server not yet
 * accepting connections, too many connections, and the connection-exception class.
 */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
/** Besides those: the database does not exist, or the login was refused. */
const UNAVAILABLE_SQLSTATES = new Set(['3D000', '28P01', '28000']);

/**
 * One statement claims a batch. The CTE reads the head of the partial (next_attempt_at, id)
 * index on pending rows and locks what it picks; SKIP LOCKED lets concurrent claimers in
 * other processes pass over rows another claim holds instead of queueing behind it, so
 * N schedulers split the backlog rather than contend for its first rows. The UPDATE then
 * stamps the lease on exactly those rows, and RETURNING hands them back with their old due
 * time for ordering (RETURNING itself promises no order).
 */
async function claimDue(db: Db, request: ClaimRequest, table: TableRef): Promise<DeliveryRow[]> {
  const now = request.now.getTime();
  // Right after a burst of emits the planner's statistics still describe the table before it
  // (autovacuum analyses a minute or more later) and it reads *every* due row through a bitmap
  // scan and sorts them, for each claim of a few hundred: O(backlog) where the ordered walk of
  // the due index is O(batch). With bitmap scans off for this one transaction, the walk is the
  // plan whatever the statistics say.
  return db.transaction().execute(async (tx) => {
    await sql`SET LOCAL enable_bitmapscan = off`.execute(tx);
    return claimIn(tx, request, table, now);
  });
}

async function claimIn(db: Db, request: ClaimRequest, table: TableRef, now: number): Promise<DeliveryRow[]> {
  const result = await sql<DeliveryRow & { due_at: string | number }>`
    WITH due AS (
      SELECT id, next_attempt_at AS due_at FROM ${table('hookrelay_deliveries')}
      WHERE status = 'pending' AND next_attempt_at <= ${now}${excludingEndpoints(request)}
      ORDER BY next_attempt_at, id
      LIMIT ${request.limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE ${table('hookrelay_deliveries')} AS d
    SET lease_token = ${request.leaseToken}, next_attempt_at = ${now + request.leaseMs}
    FROM due
    WHERE d.id = due.id
    RETURNING d.*, due.due_at`.execute(db);
  return result.rows
    .sort((a, b) => Number(a.due_at) - Number(b.due_at) || (a.id < b.id ? -1 : 1))
    .map(({ due_at: _due, ...row }) => row);
}

/** The NOTIFY channel of one hookrelay installation: separate schemas never wake each other. */
export function notifyChannel(schema: string | undefined): string {
  return schema ? `hookrelay_${schema}` : 'hookrelay';
}

export function postgresDialect(schema: string | undefined): SqlDialect & { notifyChannel: string } {
  const channel = notifyChannel(schema);
  const lockScope = schema ?? '';
  const dialect: SqlDialect & { notifyChannel: string } = {
    kind: 'postgres',
    notifyChannel: channel,
    supportsRowLocks: true,
    createWritePath: (context) => new PostgresWritePath(context, dialect, channel),
    writeTransaction: (db, work) => db.transaction().execute(work),
    // A transaction-scoped advisory lock per org: creates for one org queue, other orgs pass.
    async lockOrg(tx, orgId) {
      await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`hookrelay:endpoints:${lockScope}:${orgId}`}, 0))`.execute(tx);
    },
    async lockMigrations(tx) {
      await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`hookrelay:migrate:${lockScope}`}, 0))`.execute(tx);
    },
    async ensureSchema(tx) {
      if (schema) await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(tx);
    },
    claim: claimDue,
    // pg_notify inside the transaction is delivered on commit, and not at all on rollback.
    async notify(tx) {
      await sql`SELECT pg_notify(${channel}, '')`.execute(tx);
    },
    isTransient(error) {
      const code = errorCode(error);
      return (code !== undefined && TRANSIENT_SQLSTATES.has(code)) || isConnectionError(error);
    },
    isUnavailable(error) {
      const code = errorCode(error);
      return (code !== undefined && (TRANSIENT_SQLSTATES.has(code) || UNAVAILABLE_SQLSTATES.has(code))) || isConnectionError(error);
    },
    isUniqueViolation: (error) => errorCode(error) === '23505',
  };
  return dialect;
}
