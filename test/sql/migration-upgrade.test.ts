import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../adapters/sql/migrations.js';
import { describePostgres, dropSchema, testSchema } from '../support/postgres-test-db.js';
import { RELEASED_MIGRATIONS, RELEASED_MIGRATIONS_TABLE } from './fixtures/released-migrations.js';
import { openStorage, type StorageSpec } from './fixtures/storage-spec.js';
import { inspect } from './support.js';

const APPLIED_AT = 1_700_000_000_000;

/** Builds the database a released hookrelay left after migrating up to `version`, outside hookrelay. */
async function releasedDatabase(spec: StorageSpec, version: number): Promise<void> {
  const statements = [RELEASED_MIGRATIONS_TABLE];
  for (const m of RELEASED_MIGRATIONS.filter((r) => r.version <= version)) {
    statements.push(...(spec.kind === 'sqlite' ? m.sqlite : m.postgres));
    statements.push(`INSERT INTO hookrelay_migrations (version, name, applied_at) VALUES (${m.version}, '${m.name}', ${APPLIED_AT})`);
  }
  await executeAll(spec, statements);
}

async function executeAll(spec: StorageSpec, statements: string[]): Promise<void> {
  if (spec.kind === 'sqlite') {
    const db = new Database(spec.filename);
    for (const statement of statements) db.exec(statement);
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: spec.url });
  await client.connect();
  await client.query(`CREATE SCHEMA IF NOT EXISTS "${spec.schema}"`);
  await client.query(`SET search_path TO "${spec.schema}"`);
  for (const statement of statements) await client.query(statement);
  await client.end();
}

const now = new Date('2026-01-01T00:00:00Z');
const endpoint = {
  id: 'ep_01KAAAAAAAAAAAAAAAAAAAAAAA',
  orgId: 'org_1',
  url: 'https://example.com/hook',
  events: ['order.created'],
  description: null,
  apiVersion: '2025-01-01',
  filter: null,
  status: 'active' as const,
  pausedReason: null,
  createdAt: now,
  updatedAt: now,
  deletedAt: null,
  secrets: [{ secret: 'whsec_c2VjcmV0', createdAt: now, expiresAt: null }],
};

/** SQLite's type affinity rules (https://sqlite.org/datatype3.html#determination_of_column_affinity). */
function affinity(type: string): string {
  const t = type.toUpperCase();
  if (t.includes('INT')) return 'INTEGER';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'TEXT';
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'REAL';
  return 'NUMERIC';
}

/** What the engine makes of a schema: columns, types, nullability, defaults and indexes. */
async function describeSchema(spec: StorageSpec): Promise<unknown> {
  if (spec.kind === 'sqlite') {
    const tables = await inspect<{ name: string }>(spec, "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'hookrelay_%' ORDER BY name");
    const out: Record<string, unknown> = {};
    for (const { name } of tables) {
      const columns = await inspect<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number }>(spec, `PRAGMA table_info(${name})`);
      const indexes = await inspect<{ name: string; unique: number; partial: number }>(spec, `PRAGMA index_list(${name})`);
      out[name] = {
        columns: columns.map((c) => [c.name, affinity(c.type), c.notnull, c.dflt_value, c.pk]),
        indexes: await Promise.all(
          indexes
            .sort((a, b) => (a.name < b.name ? -1 : 1))
            .map(async (i) => [i.name, i.unique, i.partial, (await inspect<{ name: string }>(spec, `PRAGMA index_info(${i.name})`)).map((c) => c.name)]),
        ),
      };
    }
    return out;
  }
  const schema = spec.schema as string;
  const columns = await inspect(
    spec,
    `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
     WHERE table_schema = '${schema}' ORDER BY table_name, ordinal_position`,
  );
  const indexes = await inspect<{ indexname: string; indexdef: string }>(spec, `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = '${schema}' ORDER BY indexname`);
  return { columns, indexes: indexes.map((i) => [i.indexname, i.indexdef.replaceAll(schema, 'SCHEMA')]) };
}

function upgradeSuite(fresh: () => StorageSpec): void {
  it('a fresh install has the very schema the released migrations built', async () => {
    const released = fresh();
    await releasedDatabase(released, RELEASED_MIGRATIONS.length);
    const current = fresh();
    const storage = openStorage(current);
    await storage.migrate();
    await storage.close();
    expect(await describeSchema(current)).toEqual(await describeSchema(released));
  });

  it('a database migrated by the released version: migrate() changes nothing, and the storage works on it', async () => {
    const spec = fresh();
    await releasedDatabase(spec, 2);
    const before = await inspect(spec, 'SELECT * FROM hookrelay_migrations ORDER BY version');
    const storage = openStorage(spec);
    await storage.migrate();
    expect(await inspect(spec, 'SELECT * FROM hookrelay_migrations ORDER BY version')).toEqual(before);
    await storage.createEndpoint(endpoint, { maxPerOrg: 10 });
    const delivery = {
      id: 'dlv_01KAAAAAAAAAAAAAAAAAAAAAAA',
      orgId: 'org_1',
      eventId: 'evt_01KAAAAAAAAAAAAAAAAAAAAAAA',
      endpointId: endpoint.id,
      eventType: 'order.created',
      status: 'pending' as const,
      attemptCount: 0,
      requeuedAtAttempt: 0,
      nextAttemptAt: now,
      lastAttemptAt: null,
      lastStatusCode: null,
      lastError: null,
      createdAt: now,
      updatedAt: now,
      completedAt: null,
    };
    const event = { id: delivery.eventId, orgId: 'org_1', type: 'order.created', data: { a: 1 }, idempotencyKey: 'k1', createdAt: now };
    expect((await storage.insertEvent({ event, deliveries: [delivery] })).created).toBe(true);
    const claimed = await storage.claimDueDeliveries({ now, limit: 10, leaseMs: 30_000, leaseToken: 'lease_1' });
    expect(claimed.map((c) => c.delivery.id)).toEqual([delivery.id]);
    await storage.close();
  });

  it('a database left at version 1 by an older release is brought up to the latest version', async () => {
    const spec = fresh();
    await releasedDatabase(spec, 1);
    await executeAll(spec, [
      `INSERT INTO hookrelay_deliveries (id, org_id, event_id, endpoint_id, event_type, status, attempt_count, created_at, updated_at)
       VALUES ('dlv_old', 'org_1', 'evt_old', 'ep_old', 'order.created', 'failed', 3, 0, 0)`,
    ]);
    const storage = openStorage(spec);
    await storage.migrate();
    await storage.close();
    const rows = await inspect<{ version: number | string; name: string; applied_at: number | string }>(
      spec,
      'SELECT version, name, applied_at FROM hookrelay_migrations ORDER BY version',
    );
    expect(rows.map((r) => [Number(r.version), r.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
    expect(Number(rows[0]?.applied_at)).toBe(APPLIED_AT);
    const [old] = await inspect<{ requeued_at_attempt: number | string }>(spec, "SELECT requeued_at_attempt FROM hookrelay_deliveries WHERE id = 'dlv_old'");
    expect(Number(old?.requeued_at_attempt)).toBe(0);
  });
}

describe('migration upgrade: SQLite', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  upgradeSuite(() => {
    const dir = mkdtempSync(join(tmpdir(), 'hookrelay-upgrade-'));
    dirs.push(dir);
    return { kind: 'sqlite', filename: join(dir, 'webhooks.db') };
  });
});

describePostgres('migration upgrade: Postgres', (url) => {
  const schemas: string[] = [];
  afterEach(async () => {
    for (const schema of schemas.splice(0)) await dropSchema(url, schema);
  });
  upgradeSuite(() => {
    const schema = testSchema('upgrade');
    schemas.push(schema);
    return { kind: 'postgres', url, schema };
  });
});
