import { type CreateTableBuilder, type Kysely, sql } from 'kysely';

/**
 * The schema's history, embedded in the bundle. Append new migrations; never edit a released
 * one. Each is written once, with kysely's schema builder, for both engines: `db` is pointed at
 * the storage's schema (Postgres), so one database can hold several hookrelay installations.
 * Column types are Postgres names that SQLite reads with the same affinity (`bigint` and
 * `integer` INTEGER, `double precision` REAL, `text` TEXT).
 */
export interface Migration {
  version: number;
  name: string;
  up(db: Kysely<any>): Promise<void>;
}

/** Instants are epoch milliseconds: beyond 2^31, so 64-bit on Postgres. */
const EPOCH_MS = 'bigint';

function withColumns(table: CreateTableBuilder<string>, columns: [name: string, type: 'text' | 'bigint' | 'integer' | 'double precision', notNull?: 'not null'][]) {
  let built = table;
  for (const [name, type, notNull] of columns) built = built.addColumn(name, type, (c) => (notNull ? c.notNull() : c));
  return built;
}

/**
 * Indexes, and the query each one serves:
 * - deliveries (next_attempt_at, id) where pending: claims and nextDueAt read the head of this
 *   partial index, so claiming stays O(log n + batch) however many deliveries are finished.
 * - deliveries (org_id, id): listDeliveries, newest first, cursor = id.
 * - deliveries (endpoint_id, status): pause/resume/delete/replay touch one endpoint's rows by state.
 * - deliveries (event_id): the deliveries of an idempotent re-emit; prune's orphan check.
 * - deliveries (completed_at) where finished: prune scans only what is old enough to delete.
 * - events (org_id, idempotency_key) unique: the idempotency guarantee itself, race-proof.
 * - events (created_at): prune finds old events, then probes (event_id) for any delivery left.
 * - endpoints (org_id, id): listing and the per-org endpoint count.
 * - attempts (delivery_id, attempt_number): a delivery's attempt log in order.
 */
async function initialSchema(db: Kysely<any>): Promise<void> {
  const { schema } = db;
  await withColumns(schema.createTable('hookrelay_endpoints').addColumn('id', 'text', (c) => c.primaryKey()), [
    ['org_id', 'text', 'not null'],
    ['url', 'text', 'not null'],
    ['events', 'text', 'not null'],
    ['description', 'text'],
    ['api_version', 'text', 'not null'],
    ['filter', 'text'],
    ['status', 'text', 'not null'],
    ['paused_reason', 'text'],
    ['created_at', EPOCH_MS, 'not null'],
    ['updated_at', EPOCH_MS, 'not null'],
    ['deleted_at', EPOCH_MS],
    ['secrets', 'text', 'not null'],
  ]).execute();
  await schema.createIndex('hookrelay_endpoints_org_idx').on('hookrelay_endpoints').columns(['org_id', 'id']).execute();

  await withColumns(schema.createTable('hookrelay_events').addColumn('id', 'text', (c) => c.primaryKey()), [
    ['org_id', 'text', 'not null'],
    ['type', 'text', 'not null'],
    ['data', 'text', 'not null'],
    ['idempotency_key', 'text'],
    ['created_at', EPOCH_MS, 'not null'],
  ]).execute();
  await schema.createIndex('hookrelay_events_idempotency_idx').unique().on('hookrelay_events').columns(['org_id', 'idempotency_key']).execute();
  await schema.createIndex('hookrelay_events_created_idx').on('hookrelay_events').column('created_at').execute();

  await withColumns(schema.createTable('hookrelay_deliveries').addColumn('id', 'text', (c) => c.primaryKey()), [
    ['org_id', 'text', 'not null'],
    ['event_id', 'text', 'not null'],
    ['endpoint_id', 'text', 'not null'],
    ['event_type', 'text', 'not null'],
    ['status', 'text', 'not null'],
  ])
    .addColumn('attempt_count', 'integer', (c) => c.notNull().defaultTo(0))
    .$call((t) =>
      withColumns(t, [
        ['next_attempt_at', EPOCH_MS],
        ['last_attempt_at', EPOCH_MS],
        ['last_status_code', 'integer'],
        ['last_error', 'text'],
        ['created_at', EPOCH_MS, 'not null'],
        ['updated_at', EPOCH_MS, 'not null'],
        ['completed_at', EPOCH_MS],
        ['lease_token', 'text'],
      ]),
    )
    .execute();
  const deliveryIndex = (name: string, columns: string[]) => schema.createIndex(name).on('hookrelay_deliveries').columns(columns);
  await deliveryIndex('hookrelay_deliveries_due_idx', ['next_attempt_at', 'id']).where(sql.ref('status'), '=', 'pending').execute();
  await deliveryIndex('hookrelay_deliveries_org_idx', ['org_id', 'id']).execute();
  await deliveryIndex('hookrelay_deliveries_endpoint_idx', ['endpoint_id', 'status']).execute();
  await deliveryIndex('hookrelay_deliveries_event_idx', ['event_id']).execute();
  await deliveryIndex('hookrelay_deliveries_completed_idx', ['completed_at']).where(sql.ref('completed_at'), 'is not', null).execute();

  await withColumns(schema.createTable('hookrelay_attempts').addColumn('id', 'text', (c) => c.primaryKey()), [
    ['delivery_id', 'text', 'not null'],
    ['org_id', 'text', 'not null'],
    ['endpoint_id', 'text', 'not null'],
    ['attempt_number', 'integer', 'not null'],
    ['started_at', EPOCH_MS, 'not null'],
    ['duration_ms', 'double precision', 'not null'],
    ['status_code', 'integer'],
    ['error_kind', 'text'],
    ['error_message', 'text'],
    ['response_excerpt', 'text'],
  ]).execute();
  await schema.createIndex('hookrelay_attempts_delivery_idx').on('hookrelay_attempts').columns(['delivery_id', 'attempt_number']).execute();
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial schema', up: initialSchema },
  {
    version: 2,
    name: 'retry schedule restarts at a manual retry or replay',
    up: async (db) => {
      await db.schema.alterTable('hookrelay_deliveries').addColumn('requeued_at_attempt', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
