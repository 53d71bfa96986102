import { type QueryResult, sql } from 'kysely';
import type { Attempt, Delivery } from '../../src/model.js';
import type { Db, TableRef } from './dialect.js';
import { Prepared } from './prepared.js';
import { attemptToRow, deliveryToRow, type EndpointRow, type EventRow, type NewEventRow } from './rows.js';

export const DELIVERY_COLUMNS = [
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

export const ATTEMPT_COLUMNS = [
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

const EVENT_COLUMNS = ['id', 'org_id', 'type', 'data', 'idempotency_key', 'created_at'] as const;

/** A column list, `(a, b, c)` without the parentheses. */
export function columns(names: readonly string[]) {
  return sql.join(names.map((name) => sql.id(name)));
}

/** Settles a leased delivery: the lease guard in the WHERE leaves a delivery someone else holds alone. */
interface Settlement {
  deliveryId: string;
  leaseToken: string;
  status: string;
  nowMs: number;
  nextAttemptAt: number | null;
  completedAt: number | null;
}

/**
 * The statements both engines run on the emit and delivery paths, prepared once per storage
 * (see `Prepared`; SQLite's statement cache then prepares each text once as well).
 */
export class HotQueries {
  private readonly liveEndpointsOf: Prepared<[orgId: string], EndpointRow>;
  private readonly byIdsOf: Record<'hookrelay_events' | 'hookrelay_endpoints', Prepared<string[], EventRow | EndpointRow>>;
  private readonly insertEventRow: Prepared<unknown[], never>;
  private readonly insertDeliveryRows: Prepared<unknown[], never>;
  private readonly settleBare: Prepared<unknown[], never>;
  private readonly settleWithAttempt: Prepared<unknown[], never>;
  private readonly insertAttemptRow: Prepared<unknown[], never>;
  private readonly attemptById: Prepared<[attemptId: string], { id: string }>;
  private readonly savepoints: Record<'SAVEPOINT' | 'RELEASE' | 'ROLLBACK TO', Prepared<[], never>>;

  constructor(table: TableRef) {
    const endpoints = table('hookrelay_endpoints');
    const events = table('hookrelay_events');
    const deliveries = table('hookrelay_deliveries');
    const attempts = table('hookrelay_attempts');
    this.liveEndpointsOf = new Prepared((orgId) => sql<EndpointRow>`SELECT * FROM ${endpoints} WHERE org_id = ${orgId} AND deleted_at IS NULL ORDER BY id`);
    const byIds = (ref: typeof endpoints) => new Prepared((...ids: string[]) => sql<EventRow | EndpointRow>`SELECT * FROM ${ref} WHERE id IN (${sql.join(ids)})`);
    this.byIdsOf = { hookrelay_events: byIds(events), hookrelay_endpoints: byIds(endpoints) };
    // ON CONFLICT DO NOTHING: the idempotency index or the primary key decides, race-free.
    this.insertEventRow = new Prepared((...values) => sql`INSERT INTO ${events} (${columns(EVENT_COLUMNS)}) VALUES (${sql.join(values)}) ON CONFLICT DO NOTHING`);
    this.insertDeliveryRows = new Prepared((...values) => {
      const rows = [];
      for (let i = 0; i < values.length; i += DELIVERY_COLUMNS.length) rows.push(sql`(${sql.join(values.slice(i, i + DELIVERY_COLUMNS.length))})`);
      return sql`INSERT INTO ${deliveries} (${columns(DELIVERY_COLUMNS)}) VALUES ${sql.join(rows)}`;
    });
    this.settleBare = new Prepared(
      (status, nowMs, nextAttemptAt, completedAt, id, leaseToken) =>
        sql`UPDATE ${deliveries} SET status = ${status}, lease_token = NULL, updated_at = ${nowMs}, next_attempt_at = ${nextAttemptAt}, completed_at = ${completedAt}
            WHERE id = ${id} AND lease_token = ${leaseToken} AND status = 'pending'`,
    );
    this.settleWithAttempt = new Prepared(
      (status, nowMs, nextAttemptAt, completedAt, startedAt, statusCode, errorKind, id, leaseToken) =>
        sql`UPDATE ${deliveries} SET status = ${status}, lease_token = NULL, updated_at = ${nowMs}, next_attempt_at = ${nextAttemptAt}, completed_at = ${completedAt},
              attempt_count = attempt_count + 1, last_attempt_at = ${startedAt}, last_status_code = ${statusCode}, last_error = ${errorKind}
            WHERE id = ${id} AND lease_token = ${leaseToken} AND status = 'pending'`,
    );
    this.insertAttemptRow = new Prepared((...values) => sql`INSERT INTO ${attempts} (${columns(ATTEMPT_COLUMNS)}) VALUES (${sql.join(values)})`);
    this.attemptById = new Prepared((attemptId) => sql<{ id: string }>`SELECT id FROM ${attempts} WHERE id = ${attemptId}`);
    this.savepoints = {
      SAVEPOINT: new Prepared(() => sql`SAVEPOINT hookrelay_write`),
      RELEASE: new Prepared(() => sql`RELEASE hookrelay_write`),
      'ROLLBACK TO': new Prepared(() => sql`ROLLBACK TO hookrelay_write`),
    };
  }

  /** Served by (org_id, id): an org's live endpoints, filtered by event type in memory by the caller. */
  liveEndpoints(db: Db, orgId: string): Promise<QueryResult<EndpointRow>> {
    return this.liveEndpointsOf.run(db, orgId);
  }

  /** Primary-key lookups for a claimed batch's events or endpoints. */
  byIds<R extends EventRow | EndpointRow>(db: Db, name: 'hookrelay_events' | 'hookrelay_endpoints', ids: string[]): Promise<QueryResult<R>> {
    return this.byIdsOf[name].run(db, ...ids) as Promise<QueryResult<R>>;
  }

  insertEvent(db: Db, row: NewEventRow): Promise<QueryResult<never>> {
    return this.insertEventRow.run(db, ...EVENT_COLUMNS.map((c) => row[c]));
  }

  insertDeliveries(db: Db, deliveries: Delivery[]): Promise<QueryResult<never>> {
    const values: unknown[] = [];
    for (const d of deliveries) {
      const row = deliveryToRow(d);
      for (const c of DELIVERY_COLUMNS) values.push(row[c]);
    }
    return this.insertDeliveryRows.run(db, ...values);
  }

  /**
   * Moves a leased delivery to its next state, guarded by the lease in the WHERE; with an
   * attempt, counts it and copies its outcome onto the delivery.
   */
  settle(db: Db, s: Settlement, attempt: Attempt | null): Promise<QueryResult<never>> {
    if (!attempt) return this.settleBare.run(db, s.status, s.nowMs, s.nextAttemptAt, s.completedAt, s.deliveryId, s.leaseToken);
    return this.settleWithAttempt.run(
      db,
      s.status,
      s.nowMs,
      s.nextAttemptAt,
      s.completedAt,
      attempt.startedAt.getTime(),
      attempt.statusCode,
      attempt.errorKind,
      s.deliveryId,
      s.leaseToken,
    );
  }

  insertAttempt(db: Db, attempt: Attempt): Promise<QueryResult<never>> {
    const row = attemptToRow(attempt);
    return this.insertAttemptRow.run(db, ...ATTEMPT_COLUMNS.map((c) => row[c]));
  }

  attemptExists(db: Db, attemptId: string): Promise<QueryResult<{ id: string }>> {
    return this.attemptById.run(db, attemptId);
  }

  /** Runs `work` inside a savepoint of the open transaction `db`: a throw undoes its writes alone, then passes on. */
  async inSavepoint<T>(db: Db, work: () => Promise<T>): Promise<T> {
    await this.savepoints.SAVEPOINT.run(db);
    try {
      const result = await work();
      await this.savepoints.RELEASE.run(db);
      return result;
    } catch (error) {
      await this.savepoints['ROLLBACK TO'].run(db);
      await this.savepoints.RELEASE.run(db);
      throw error;
    }
  }
}
