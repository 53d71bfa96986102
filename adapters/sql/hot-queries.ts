import { CompiledQuery, type QueryResult } from 'kysely';
import type { Attempt, Delivery } from '../../src/model.js';
import type { Db } from './dialect.js';
import { attemptToRow, deliveryToRow, type DeliveryRow, type EndpointRow, type EventRow, type NewEventRow } from './rows.js';
import type { TableName } from './schema.js';

const DELIVERY_COLUMNS = [
  'id',
  'org_id',
  'event_id',
  'endpoint_id',
  'event_type',
  'status',
  'attempt_count',
  'requeued_at_attempt',
  'next_attempt_at',
  'last_attempt_at',
  'last_status_code',
  'last_error',
  'created_at',
  'updated_at',
  'completed_at',
] as const;

/** The column list that reads delivery rows sent as one JSON array (`json_to_recordset`). */
const DELIVERY_RECORD_TYPES = `id text, org_id text, event_id text, endpoint_id text, event_type text, status text,
  attempt_count integer, requeued_at_attempt integer, next_attempt_at bigint, last_attempt_at bigint, last_status_code integer, last_error text,
  created_at bigint, updated_at bigint, completed_at bigint`;

const ATTEMPT_COLUMNS = [
  'id',
  'delivery_id',
  'org_id',
  'endpoint_id',
  'attempt_number',
  'started_at',
  'duration_ms',
  'status_code',
  'error_kind',
  'error_message',
  'response_excerpt',
] as const;

/**
 * The statements on the emit and delivery paths, as fixed SQL text run through
 * `db.executeQuery`. Building and compiling a kysely query costs several times more than
 * running a small indexed statement; these run thousands of times a second, so their text is
 * built once per storage (and, on SQLite, prepared once). Written with `?`; Postgres gets `$n`.
 */
export class HotQueries {
  private readonly texts = new Map<string, string>();

  constructor(
    private readonly table: (name: TableName) => string,
    private readonly numbered: boolean,
  ) {}

  /** Served by (org_id, id): an org's live endpoints, filtered by event type in memory by the caller. */
  liveEndpoints(db: Db, orgId: string): Promise<QueryResult<EndpointRow>> {
    return this.run(db, 'liveEndpoints', () => `SELECT * FROM ${this.table('hookrelay_endpoints')} WHERE org_id = ? AND deleted_at IS NULL ORDER BY id`, [
      orgId,
    ]);
  }

  /**
   * Postgres only: the live endpoints of several orgs in one statement, so emits that arrive
   * together share one read. One array parameter keeps it a single prepared statement.
   */
  liveEndpointsOfOrgs(db: Db, orgIds: string[]): Promise<QueryResult<EndpointRow>> {
    return this.run(
      db,
      'liveEndpointsOfOrgs',
      () => `SELECT * FROM ${this.table('hookrelay_endpoints')} WHERE org_id = ANY(?::text[]) AND deleted_at IS NULL ORDER BY id`,
      [orgIds],
    );
  }

  /** Primary-key lookups for a claimed batch's events or endpoints. */
  byIds<R extends EventRow | EndpointRow>(db: Db, name: 'hookrelay_events' | 'hookrelay_endpoints', ids: string[]): Promise<QueryResult<R>> {
    return this.run(db, `${name}:${ids.length}`, () => `SELECT * FROM ${this.table(name)} WHERE id IN (${marks(ids.length)})`, ids);
  }

  /** ON CONFLICT DO NOTHING: the idempotency index or the primary key decides, race-free. */
  insertEvent(db: Db, row: NewEventRow): Promise<QueryResult<never>> {
    return this.run(
      db,
      'insertEvent',
      () =>
        `INSERT INTO ${this.table('hookrelay_events')} (id, org_id, type, data, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [row.id, row.org_id, row.type, row.data, row.idempotency_key, row.created_at],
    );
  }

  insertDeliveries(db: Db, deliveries: Delivery[]): Promise<QueryResult<never>> {
    const params: unknown[] = [];
    for (const d of deliveries) {
      const row = deliveryToRow(d) as Record<string, unknown>;
      for (const c of DELIVERY_COLUMNS) params.push(row[c]);
    }
    return this.run(
      db,
      `insertDeliveries:${deliveries.length}`,
      () =>
        `INSERT INTO ${this.table('hookrelay_deliveries')} (${DELIVERY_COLUMNS.join(', ')}) VALUES ${Array.from(
          { length: deliveries.length },
          () => `(${marks(DELIVERY_COLUMNS.length)})`,
        ).join(', ')}`,
      params,
    );
  }

  /**
   * Moves a leased delivery to its next state, guarded by the lease in the WHERE; with an
   * attempt, counts it and copies its outcome onto the delivery.
   */
  settle(
    db: Db,
    s: { deliveryId: string; leaseToken: string; status: string; nowMs: number; nextAttemptAt: number | null; completedAt: number | null },
    attempt: Attempt | null,
  ): Promise<QueryResult<never>> {
    const base = [s.status, s.nowMs, s.nextAttemptAt, s.completedAt];
    const where = [s.deliveryId, s.leaseToken];
    if (!attempt) {
      return this.run(
        db,
        'settle',
        () =>
          `UPDATE ${this.table('hookrelay_deliveries')} SET status = ?, lease_token = NULL, updated_at = ?, next_attempt_at = ?, completed_at = ?
           WHERE id = ? AND lease_token = ? AND status = 'pending'`,
        [...base, ...where],
      );
    }
    return this.run(
      db,
      'settleAttempt',
      () =>
        `UPDATE ${this.table('hookrelay_deliveries')} SET status = ?, lease_token = NULL, updated_at = ?, next_attempt_at = ?, completed_at = ?,
           attempt_count = attempt_count + 1, last_attempt_at = ?, last_status_code = ?, last_error = ?
         WHERE id = ? AND lease_token = ? AND status = 'pending'`,
      [...base, attempt.startedAt.getTime(), attempt.statusCode, attempt.errorKind, ...where],
    );
  }

  insertAttempt(db: Db, attempt: Attempt): Promise<QueryResult<never>> {
    const row = attemptToRow(attempt) as Record<string, unknown>;
    return this.run(
      db,
      'insertAttempt',
      () => `INSERT INTO ${this.table('hookrelay_attempts')} (${ATTEMPT_COLUMNS.join(', ')}) VALUES (${marks(ATTEMPT_COLUMNS.length)})`,
      ATTEMPT_COLUMNS.map((c) => row[c]),
    );
  }

  attemptExists(db: Db, attemptId: string): Promise<QueryResult<{ id: string }>> {
    return this.run(db, 'attemptExists', () => `SELECT id FROM ${this.table('hookrelay_attempts')} WHERE id = ?`, [attemptId]);
  }

  /** Postgres only: event, deliveries and wake-up in one statement (see `insertEventAtomic`). */
  insertEventAtomic(db: Db, event: NewEventRow, deliveries: Delivery[], notifyChannel: string | null): Promise<QueryResult<{ created: string | number }>> {
    const rows = deliveries.map((d) => deliveryToRow(d));
    return this.run(
      db,
      'insertEventAtomic',
      () => `
        WITH ev AS (
          INSERT INTO ${this.table('hookrelay_events')} (id, org_id, type, data, idempotency_key, created_at)
          VALUES (?::text, ?::text, ?::text, ?::text, ?::text, ?::bigint)
          ON CONFLICT DO NOTHING
          RETURNING id
        ), dl AS (
          INSERT INTO ${this.table('hookrelay_deliveries')} (${DELIVERY_COLUMNS.join(', ')})
          SELECT ${DELIVERY_COLUMNS.map((c) => `d.${c}`).join(', ')}
          FROM json_to_recordset(?::json) AS d(${DELIVERY_RECORD_TYPES})
          WHERE EXISTS (SELECT 1 FROM ev)
          RETURNING 1
        ), wake AS (
          SELECT pg_notify(?::text, '') FROM ev WHERE ?::boolean
        )
        SELECT (SELECT count(*) FROM ev) AS created, (SELECT count(*) FROM dl) AS deliveries, (SELECT count(*) FROM wake) AS woken`,
      [
        event.id,
        event.org_id,
        event.type,
        event.data,
        event.idempotency_key,
        event.created_at,
        JSON.stringify(rows),
        notifyChannel ?? '',
        notifyChannel !== null,
      ],
    );
  }

  /**
   * Postgres only: several emits' events and deliveries in one statement. An event that
   * conflicts (idempotency key, or an id already written) is skipped with its deliveries; the
   * caller settles those one by one. Returns the ids of the events written.
   */
  insertEventsBatch(db: Db, events: NewEventRow[], deliveries: Delivery[], notifyChannel: string | null): Promise<QueryResult<{ id: string }>> {
    return this.run(
      db,
      'insertEventsBatch',
      () => `
        WITH ev AS (
          INSERT INTO ${this.table('hookrelay_events')} (id, org_id, type, data, idempotency_key, created_at)
          SELECT e.id, e.org_id, e.type, e.data, e.idempotency_key, e.created_at
          FROM json_to_recordset(?::json) AS e(id text, org_id text, type text, data text, idempotency_key text, created_at bigint)
          ON CONFLICT DO NOTHING
          RETURNING id
        ), dl AS (
          INSERT INTO ${this.table('hookrelay_deliveries')} (${DELIVERY_COLUMNS.join(', ')})
          SELECT ${DELIVERY_COLUMNS.map((c) => `d.${c}`).join(', ')}
          FROM json_to_recordset(?::json) AS d(${DELIVERY_RECORD_TYPES})
          JOIN ev ON ev.id = d.event_id
          RETURNING 1
        ), wake AS (
          SELECT pg_notify(?::text, '') WHERE ?::boolean AND EXISTS (SELECT 1 FROM ev)
        )
        SELECT ev.id, (SELECT count(*) FROM dl) AS deliveries, (SELECT count(*) FROM wake) AS woken FROM ev`,
      [JSON.stringify(events), JSON.stringify(deliveries.map((d) => deliveryToRow(d))), notifyChannel ?? '', notifyChannel !== null],
    );
  }

  /**
   * Postgres only: a finished attempt (succeeded, failed, cancelled) recorded in one statement,
   * no transaction: the guarded UPDATE and the attempt INSERT that depends on it are one
   * atomic statement. Returns how many deliveries it moved (0: the lease was not ours).
   */
  settleFinishedAtomic(
    db: Db,
    s: { deliveryId: string; leaseToken: string; status: string; nowMs: number },
    attempt: Attempt,
  ): Promise<QueryResult<{ updated: string | number }>> {
    const a = attemptToRow(attempt) as Record<string, unknown>;
    return this.run(
      db,
      'settleFinishedAtomic',
      () => `
        WITH upd AS (
          UPDATE ${this.table('hookrelay_deliveries')} SET status = ?::text, lease_token = NULL, updated_at = ?::bigint, next_attempt_at = NULL,
            completed_at = ?::bigint, attempt_count = attempt_count + 1, last_attempt_at = ?::bigint, last_status_code = ?::integer, last_error = ?::text
          WHERE id = ?::text AND lease_token = ?::text AND status = 'pending'
          RETURNING id
        ), att AS (
          INSERT INTO ${this.table('hookrelay_attempts')} (${ATTEMPT_COLUMNS.join(', ')})
          SELECT ?::text, ?::text, ?::text, ?::text, ?::integer, ?::bigint, ?::double precision, ?::integer, ?::text, ?::text, ?::text FROM upd
          ON CONFLICT DO NOTHING
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM upd) AS updated, (SELECT count(*) FROM att) AS recorded`,
      [
        s.status,
        s.nowMs,
        s.nowMs,
        attempt.startedAt.getTime(),
        attempt.statusCode,
        attempt.errorKind,
        s.deliveryId,
        s.leaseToken,
        ...ATTEMPT_COLUMNS.map((c) => a[c]),
      ],
    );
  }

  /**
   * Postgres only: many finished attempts in one statement, each row guarded by its own lease
   * exactly as in `settleFinishedAtomic`. Returns the ids of the deliveries it moved.
   *
   * The rows are found by primary key (`id = ANY(…)`), and the status is compared as an
   * expression no index covers: with a plain `status = 'pending'`, and statistics not yet caught
   * up with a burst of emits, the planner read every pending delivery (the whole backlog)
   * through the partial due index, or every row of the endpoint index, for each batch.
   */
  settleFinishedBatch(
    db: Db,
    items: { deliveryId: string; leaseToken: string; status: string; nowMs: number; attempt: Attempt }[],
  ): Promise<QueryResult<{ id: string }>> {
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
    return this.run(
      db,
      'settleFinishedBatch',
      () => `
        WITH input AS (
          SELECT * FROM json_to_recordset(?::json) AS i(delivery_id text, lease_token text, status text, now_ms bigint, att_id text,
            org_id text, endpoint_id text, attempt_number integer, started_at bigint, duration_ms double precision, status_code integer,
            error_kind text, error_message text, response_excerpt text)
        ), upd AS (
          UPDATE ${this.table('hookrelay_deliveries')} AS d SET status = i.status, lease_token = NULL, updated_at = i.now_ms,
            next_attempt_at = NULL, completed_at = i.now_ms, attempt_count = d.attempt_count + 1, last_attempt_at = i.started_at,
            last_status_code = i.status_code, last_error = i.error_kind
          FROM input AS i
          WHERE d.id = ANY(?::text[]) AND d.id = i.delivery_id AND d.lease_token = i.lease_token AND (d.status || '') = 'pending'
          RETURNING d.id
        ), att AS (
          INSERT INTO ${this.table('hookrelay_attempts')} (${ATTEMPT_COLUMNS.join(', ')})
          SELECT i.att_id, i.delivery_id, i.org_id, i.endpoint_id, i.attempt_number, i.started_at, i.duration_ms, i.status_code,
            i.error_kind, i.error_message, i.response_excerpt
          FROM input AS i JOIN upd ON upd.id = i.delivery_id
          ON CONFLICT DO NOTHING
          RETURNING 1
        )
        SELECT id FROM upd`,
      [JSON.stringify(input), items.map((i) => i.deliveryId)],
    );
  }

  /** Runs `work` inside a savepoint of the open transaction `db`: a throw undoes its writes alone, then passes on. */
  async inSavepoint<T>(db: Db, work: () => Promise<T>): Promise<T> {
    await this.savepoint(db, 'SAVEPOINT');
    try {
      const result = await work();
      await this.savepoint(db, 'RELEASE');
      return result;
    } catch (error) {
      await this.savepoint(db, 'ROLLBACK TO');
      await this.savepoint(db, 'RELEASE');
      throw error;
    }
  }

  private savepoint(db: Db, action: 'SAVEPOINT' | 'RELEASE' | 'ROLLBACK TO'): Promise<QueryResult<never>> {
    return this.run(db, action, () => `${action} hookrelay_write`, []);
  }

  private run<R>(db: Db, key: string, build: () => string, params: unknown[]): Promise<QueryResult<R>> {
    let text = this.texts.get(key);
    if (text === undefined) {
      text = this.numbered ? toNumbered(build()) : build();
      this.texts.set(key, text);
    }
    return db.executeQuery<R>(CompiledQuery.raw(text, params));
  }
}

function marks(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/** `?` → `$1, $2, …` (our texts carry no `?` inside string literals). */
function toNumbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}
