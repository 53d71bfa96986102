import type { ColumnType } from 'kysely';

/**
 * Instants are stored as epoch milliseconds: INTEGER on SQLite, BIGINT on Postgres. pg hands
 * BIGINT back as a string (it may exceed 2^53), so reads accept both and `rows.ts` parses.
 */
type EpochMs = ColumnType<number | string, number, number>;
type NullableEpochMs = ColumnType<number | string | null, number | null, number | null>;

/** Tables carry a `hookrelay_` prefix: they live in the host's own database, beside its tables. */
export interface HookrelayDatabase {
  hookrelay_migrations: MigrationsTable;
  hookrelay_endpoints: EndpointsTable;
  hookrelay_events: EventsTable;
  hookrelay_deliveries: DeliveriesTable;
  hookrelay_attempts: AttemptsTable;
}

export interface MigrationsTable {
  version: number;
  name: string;
  applied_at: EpochMs;
}

export interface EndpointsTable {
  id: string;
  org_id: string;
  url: string;
  /** JSON array of event types. */
  events: string;
  description: string | null;
  api_version: string;
  /** JSON object, or null. */
  filter: string | null;
  status: string;
  paused_reason: string | null;
  created_at: EpochMs;
  updated_at: EpochMs;
  deleted_at: NullableEpochMs;
  /** JSON array of `{ secret, createdAt, expiresAt }`; never selected into logs or errors. */
  secrets: string;
}

export interface EventsTable {
  id: string;
  org_id: string;
  type: string;
  /** JSON text, not jsonb: jsonb reorders keys, and the body we sign must be the body we stored. */
  data: string;
  idempotency_key: string | null;
  created_at: EpochMs;
}

export interface DeliveriesTable {
  id: string;
  org_id: string;
  event_id: string;
  endpoint_id: string;
  event_type: string;
  status: string;
  attempt_count: ColumnType<number | string, number, number>;
  /** attempt_count at the last manual retry or replay (migration 2). */
  requeued_at_attempt: ColumnType<number | string, number, number>;
  next_attempt_at: NullableEpochMs;
  last_attempt_at: NullableEpochMs;
  last_status_code: number | null;
  last_error: string | null;
  created_at: EpochMs;
  updated_at: EpochMs;
  completed_at: NullableEpochMs;
  /** The token of the claim that holds the delivery; null when nobody does. */
  lease_token: string | null;
}

export interface AttemptsTable {
  id: string;
  delivery_id: string;
  org_id: string;
  endpoint_id: string;
  attempt_number: number;
  started_at: EpochMs;
  duration_ms: number;
  status_code: number | null;
  error_kind: string | null;
  error_message: string | null;
  response_excerpt: string | null;
}

export type TableName = keyof HookrelayDatabase;
