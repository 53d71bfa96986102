import type { TableName } from './schema.js';

/**
 * The schema's history, embedded as SQL strings so the bundle carries it. Append new
 * migrations; never edit a released one. `table(name)` qualifies a table with the storage's
 * schema (Postgres) so one database can hold several hookrelay installations.
 */
export interface Migration {
  version: number;
  name: string;
  sqlite(table: (name: TableName) => string): string[];
  postgres(table: (name: TableName) => string): string[];
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
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sqlite: (t) => [
      `CREATE TABLE ${t('hookrelay_endpoints')} (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        description TEXT,
        api_version TEXT NOT NULL,
        filter TEXT,
        status TEXT NOT NULL,
        paused_reason TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        deleted_at INTEGER,
        secrets TEXT NOT NULL
      )`,
      `CREATE INDEX hookrelay_endpoints_org_idx ON hookrelay_endpoints (org_id, id)`,
      `CREATE TABLE ${t('hookrelay_events')} (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        idempotency_key TEXT,
        created_at INTEGER NOT NULL
      )`,
      `CREATE UNIQUE INDEX hookrelay_events_idempotency_idx ON hookrelay_events (org_id, idempotency_key)`,
      `CREATE INDEX hookrelay_events_created_idx ON hookrelay_events (created_at)`,
      `CREATE TABLE ${t('hookrelay_deliveries')} (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        endpoint_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        status TEXT NOT NULL,
        attempt_count INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        last_attempt_at INTEGER,
        last_status_code INTEGER,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        completed_at INTEGER,
        lease_token TEXT
      )`,
      `CREATE INDEX hookrelay_deliveries_due_idx ON hookrelay_deliveries (next_attempt_at, id) WHERE status = 'pending'`,
      `CREATE INDEX hookrelay_deliveries_org_idx ON hookrelay_deliveries (org_id, id)`,
      `CREATE INDEX hookrelay_deliveries_endpoint_idx ON hookrelay_deliveries (endpoint_id, status)`,
      `CREATE INDEX hookrelay_deliveries_event_idx ON hookrelay_deliveries (event_id)`,
      `CREATE INDEX hookrelay_deliveries_completed_idx ON hookrelay_deliveries (completed_at) WHERE completed_at IS NOT NULL`,
      `CREATE TABLE ${t('hookrelay_attempts')} (
        id TEXT PRIMARY KEY,
        delivery_id TEXT NOT NULL,
        org_id TEXT NOT NULL,
        endpoint_id TEXT NOT NULL,
        attempt_number INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        duration_ms REAL NOT NULL,
        status_code INTEGER,
        error_kind TEXT,
        error_message TEXT,
        response_excerpt TEXT
      )`,
      `CREATE INDEX hookrelay_attempts_delivery_idx ON hookrelay_attempts (delivery_id, attempt_number)`,
    ],
    postgres: (t) => [
      `CREATE TABLE ${t('hookrelay_endpoints')} (
        id text PRIMARY KEY,
        org_id text NOT NULL,
        url text NOT NULL,
        events text NOT NULL,
        description text,
        api_version text NOT NULL,
        filter text,
        status text NOT NULL,
        paused_reason text,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        deleted_at bigint,
        secrets text NOT NULL
      )`,
      `CREATE INDEX hookrelay_endpoints_org_idx ON ${t('hookrelay_endpoints')} (org_id, id)`,
      `CREATE TABLE ${t('hookrelay_events')} (
        id text PRIMARY KEY,
        org_id text NOT NULL,
        type text NOT NULL,
        data text NOT NULL,
        idempotency_key text,
        created_at bigint NOT NULL
      )`,
      `CREATE UNIQUE INDEX hookrelay_events_idempotency_idx ON ${t('hookrelay_events')} (org_id, idempotency_key)`,
      `CREATE INDEX hookrelay_events_created_idx ON ${t('hookrelay_events')} (created_at)`,
      `CREATE TABLE ${t('hookrelay_deliveries')} (
        id text PRIMARY KEY,
        org_id text NOT NULL,
        event_id text NOT NULL,
        endpoint_id text NOT NULL,
        event_type text NOT NULL,
        status text NOT NULL,
        attempt_count integer NOT NULL DEFAULT 0,
        next_attempt_at bigint,
        last_attempt_at bigint,
        last_status_code integer,
        last_error text,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        completed_at bigint,
        lease_token text
      )`,
      `CREATE INDEX hookrelay_deliveries_due_idx ON ${t('hookrelay_deliveries')} (next_attempt_at, id) WHERE status = 'pending'`,
      `CREATE INDEX hookrelay_deliveries_org_idx ON ${t('hookrelay_deliveries')} (org_id, id)`,
      `CREATE INDEX hookrelay_deliveries_endpoint_idx ON ${t('hookrelay_deliveries')} (endpoint_id, status)`,
      `CREATE INDEX hookrelay_deliveries_event_idx ON ${t('hookrelay_deliveries')} (event_id)`,
      `CREATE INDEX hookrelay_deliveries_completed_idx ON ${t('hookrelay_deliveries')} (completed_at) WHERE completed_at IS NOT NULL`,
      `CREATE TABLE ${t('hookrelay_attempts')} (
        id text PRIMARY KEY,
        delivery_id text NOT NULL,
        org_id text NOT NULL,
        endpoint_id text NOT NULL,
        attempt_number integer NOT NULL,
        started_at bigint NOT NULL,
        duration_ms double precision NOT NULL,
        status_code integer,
        error_kind text,
        error_message text,
        response_excerpt text
      )`,
      `CREATE INDEX hookrelay_attempts_delivery_idx ON ${t('hookrelay_attempts')} (delivery_id, attempt_number)`,
    ],
  },
  {
    version: 2,
    name: 'retry schedule restarts at a manual retry or replay',
    sqlite: (t) => [`ALTER TABLE ${t('hookrelay_deliveries')} ADD COLUMN requeued_at_attempt INTEGER NOT NULL DEFAULT 0`],
    postgres: (t) => [`ALTER TABLE ${t('hookrelay_deliveries')} ADD COLUMN requeued_at_attempt integer NOT NULL DEFAULT 0`],
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
