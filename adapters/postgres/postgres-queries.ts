import { type QueryResult, sql } from 'kysely';
import type { Attempt, Delivery } from '../../src/model.js';
import type { Db, TableRef } from '../sql/dialect.js';
import { ATTEMPT_COLUMNS, columns, DELIVERY_COLUMNS } from '../sql/hot-queries.js';
import { Prepared } from '../sql/prepared.js';
import { attemptToRow, deliveryToRow, type EndpointRow, type NewEventRow } from '../sql/rows.js';
import type { FinishedAttempt } from '../sql/write-path.js';

/** The record type that reads delivery rows sent as one JSON array (`json_to_recordset`). */
const DELIVERY_RECORD = sql`id text, org_id text, event_id text, endpoint_id text, event_type text, status text,
  attempt_count integer, requeued_at_attempt integer, next_attempt_at bigint, last_attempt_at bigint, last_status_code integer, last_error text,
  created_at bigint, updated_at bigint, completed_at bigint`;

/** `d.id, d.org_id, …`: the delivery columns read from the record alias `d`. */
const DELIVERY_RECORD_COLUMNS = sql.join(DELIVERY_COLUMNS.map((c) => sql.id('d', c)));

/**
 * The Postgres write path's statements. Data-modifying CTEs make each of them one atomic
 * statement that needs no transaction (no BEGIN/COMMIT round trips), and JSON or array
 * parameters let one prepared text carry any number of rows.
 */
export class PostgresQueries {
  private readonly liveEndpointsOfOrgsQuery: Prepared<[orgIds: string[]], EndpointRow>;
  private readonly insertEventAtomicQuery: Prepared<unknown[], { created: string | number }>;
  private readonly insertEventsBatchQuery: Prepared<[events: string, deliveries: string, channel: string, notify: boolean], { id: string }>;
  private readonly settleFinishedAtomicQuery: Prepared<unknown[], { updated: string | number }>;
  private readonly settleFinishedBatchQuery: Prepared<[input: string, ids: string[]], { id: string }>;

  constructor(table: TableRef) {
    const endpoints = table('hookrelay_endpoints');
    const events = table('hookrelay_events');
    const deliveries = table('hookrelay_deliveries');
    const attempts = table('hookrelay_attempts');

    // One array parameter keeps it a single prepared statement, however many orgs.
    this.liveEndpointsOfOrgsQuery = new Prepared(
      (orgIds) => sql<EndpointRow>`SELECT * FROM ${endpoints} WHERE org_id = ANY(${orgIds}::text[]) AND deleted_at IS NULL ORDER BY id`,
    );

    this.insertEventAtomicQuery = new Prepared(
      (id, orgId, type, data, idempotencyKey, createdAt, deliveryRows, channel, notify) => sql<{ created: string | number }>`
        WITH ev AS (
          INSERT INTO ${events} (id, org_id, type, data, idempotency_key, created_at)
          VALUES (${id}::text, ${orgId}::text, ${type}::text, ${data}::text, ${idempotencyKey}::text, ${createdAt}::bigint)
          ON CONFLICT DO NOTHING
          RETURNING id
        ), dl AS (
          INSERT INTO ${deliveries} (${columns(DELIVERY_COLUMNS)})
          SELECT ${DELIVERY_RECORD_COLUMNS}
          FROM json_to_recordset(${deliveryRows}::json) AS d(${DELIVERY_RECORD})
          WHERE EXISTS (SELECT 1 FROM ev)
          RETURNING 1
        ), wake AS (
          SELECT pg_notify(${channel}::text, '') FROM ev WHERE ${notify}::boolean
        )
        SELECT (SELECT count(*) FROM ev) AS created, (SELECT count(*) FROM dl) AS deliveries, (SELECT count(*) FROM wake) AS woken`,
    );

    this.insertEventsBatchQuery = new Prepared(
      (eventRows, deliveryRows, channel, notify) => sql<{ id: string }>`
        WITH ev AS (
          INSERT INTO ${events} (id, org_id, type, data, idempotency_key, created_at)
          SELECT e.id, e.org_id, e.type, e.data, e.idempotency_key, e.created_at
          FROM json_to_recordset(${eventRows}::json) AS e(id text, org_id text, type text, data text, idempotency_key text, created_at bigint)
          ON CONFLICT DO NOTHING
          RETURNING id
        ), dl AS (
          INSERT INTO ${deliveries} (${columns(DELIVERY_COLUMNS)})
          SELECT ${DELIVERY_RECORD_COLUMNS}
          FROM json_to_recordset(${deliveryRows}::json) AS d(${DELIVERY_RECORD})
          JOIN ev ON ev.id = d.event_id
          RETURNING 1
        ), wake AS (
          SELECT pg_notify(${channel}::text, '') WHERE ${notify}::boolean AND EXISTS (SELECT 1 FROM ev)
        )
        SELECT ev.id, (SELECT count(*) FROM dl) AS deliveries, (SELECT count(*) FROM wake) AS woken FROM ev`,
    );

    this.settleFinishedAtomicQuery = new Prepared(
      (status, nowMs, startedAt, statusCode, errorKind, deliveryId, leaseToken, ...attempt) => sql<{ updated: string | number }>`
        WITH upd AS (
          UPDATE ${deliveries} SET status = ${status}::text, lease_token = NULL, updated_at = ${nowMs}::bigint, next_attempt_at = NULL,
            completed_at = ${nowMs}::bigint, attempt_count = attempt_count + 1, last_attempt_at = ${startedAt}::bigint,
            last_status_code = ${statusCode}::integer, last_error = ${errorKind}::text
          WHERE id = ${deliveryId}::text AND lease_token = ${leaseToken}::text AND status = 'pending'
          RETURNING id
        ), att AS (
          INSERT INTO ${attempts} (${columns(ATTEMPT_COLUMNS)})
          SELECT ${attempt[0]}::text, ${attempt[1]}::text, ${attempt[2]}::text, ${attempt[3]}::text, ${attempt[4]}::integer, ${attempt[5]}::bigint,
            ${attempt[6]}::double precision, ${attempt[7]}::integer, ${attempt[8]}::text, ${attempt[9]}::text, ${attempt[10]}::text FROM upd
          ON CONFLICT DO NOTHING
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM upd) AS updated, (SELECT count(*) FROM att) AS recorded`,
    );

    // The rows are found by primary key (`id = ANY(…)`), and the status is compared as an
    // expression no index covers: with a plain `status = 'pending'`, and statistics not yet
    // caught up with a burst of emits, the planner read every pending delivery (the whole
    // backlog) through the partial due index, or every row of the endpoint index, for each batch.
    this.settleFinishedBatchQuery = new Prepared(
      (input, ids) => sql<{ id: string }>`
        WITH input AS (
          SELECT * FROM json_to_recordset(${input}::json) AS i(delivery_id text, lease_token text, status text, now_ms bigint, att_id text,
            org_id text, endpoint_id text, attempt_number integer, started_at bigint, duration_ms double precision, status_code integer,
            error_kind text, error_message text, response_excerpt text)
        ), upd AS (
          UPDATE ${deliveries} AS d SET status = i.status, lease_token = NULL, updated_at = i.now_ms,
            next_attempt_at = NULL, completed_at = i.now_ms, attempt_count = d.attempt_count + 1, last_attempt_at = i.started_at,
            last_status_code = i.status_code, last_error = i.error_kind
          FROM input AS i
          WHERE d.id = ANY(${ids}::text[]) AND d.id = i.delivery_id AND d.lease_token = i.lease_token AND (d.status || '') = 'pending'
          RETURNING d.id
        ), att AS (
          INSERT INTO ${attempts} (${columns(ATTEMPT_COLUMNS)})
          SELECT i.att_id, i.delivery_id, i.org_id, i.endpoint_id, i.attempt_number, i.started_at, i.duration_ms, i.status_code,
            i.error_kind, i.error_message, i.response_excerpt
          FROM input AS i JOIN upd ON upd.id = i.delivery_id
          ON CONFLICT DO NOTHING
          RETURNING 1
        )
        SELECT id FROM upd`,
    );
  }

  /** The live endpoints of several orgs in one statement, so emits that arrive together share one read. */
  liveEndpointsOfOrgs(db: Db, orgIds: string[]): Promise<QueryResult<EndpointRow>> {
    return this.liveEndpointsOfOrgsQuery.run(db, orgIds);
  }

  /** Event, deliveries and wake-up (when `notifyChannel` is given) in one statement. */
  insertEventAtomic(db: Db, event: NewEventRow, deliveries: Delivery[], notifyChannel: string | null): Promise<QueryResult<{ created: string | number }>> {
    return this.insertEventAtomicQuery.run(
      db,
      event.id,
      event.org_id,
      event.type,
      event.data,
      event.idempotency_key,
      event.created_at,
      JSON.stringify(deliveries.map((d) => deliveryToRow(d))),
      notifyChannel ?? '',
      notifyChannel !== null,
    );
  }

  /**
   * Several emits' events and deliveries in one statement. An event that conflicts
   * (idempotency key, or an id already written) is skipped with its deliveries; the caller
   * settles those one by one. Returns the ids of the events written.
   */
  insertEventsBatch(db: Db, events: NewEventRow[], deliveries: Delivery[], notifyChannel: string | null): Promise<QueryResult<{ id: string }>> {
    return this.insertEventsBatchQuery.run(
      db,
      JSON.stringify(events),
      JSON.stringify(deliveries.map((d) => deliveryToRow(d))),
      notifyChannel ?? '',
      notifyChannel !== null,
    );
  }

  /**
   * A finished attempt recorded in one statement, no transaction: the guarded UPDATE and the
   * attempt INSERT that depends on it are one atomic statement. Returns how many deliveries it
   * moved (0: the lease was not ours).
   */
  settleFinishedAtomic(db: Db, s: FinishedAttempt): Promise<QueryResult<{ updated: string | number }>> {
    const attempt: Attempt = s.attempt;
    const row = attemptToRow(attempt);
    return this.settleFinishedAtomicQuery.run(
      db,
      s.status,
      s.nowMs,
      attempt.startedAt.getTime(),
      attempt.statusCode,
      attempt.errorKind,
      s.deliveryId,
      s.leaseToken,
      ...ATTEMPT_COLUMNS.map((c) => row[c]),
    );
  }

  /** Many finished attempts in one statement, each row guarded by its own lease as in `settleFinishedAtomic`. Returns the ids of the deliveries it moved. */
  settleFinishedBatch(db: Db, items: FinishedAttempt[]): Promise<QueryResult<{ id: string }>> {
    const input = items.map((i) => {
      const a = attemptToRow(i.attempt);
      return {
        delivery_id: i.deliveryId,
        lease_token: i.leaseToken,
        status: i.status,
        now_ms: i.nowMs,
        att_id: a.id,
        org_id: a.org_id,
        endpoint_id: a.endpoint_id,
        attempt_number: a.attempt_number,
        started_at: a.started_at,
        duration_ms: a.duration_ms,
        status_code: a.status_code,
        error_kind: a.error_kind,
        error_message: a.error_message,
        response_excerpt: a.response_excerpt,
      };
    });
    return this.settleFinishedBatchQuery.run(
      db,
      JSON.stringify(input),
      items.map((i) => i.deliveryId),
    );
  }
}
