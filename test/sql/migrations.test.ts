import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { LATEST_VERSION, MIGRATIONS } from '../../adapters/sql/migrations.js';
import { WebhookError } from '../../src/errors.js';
import { describePostgres, dropSchema, testSchema } from '../support/postgres-test-db.js';
import { openStorage, type StorageSpec } from './fixtures/storage-spec.js';
import { inspect, spawnWorker } from './support.js';

const TABLES = ['hookrelay_attempts', 'hookrelay_deliveries', 'hookrelay_endpoints', 'hookrelay_events', 'hookrelay_migrations'];

/** Runs a write outside hookrelay (to fake a database migrated by a newer release). */
async function execute(spec: StorageSpec, statement: string): Promise<void> {
  if (spec.kind === 'sqlite') {
    const db = new Database(spec.filename);
    db.exec(statement);
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: spec.url });
  await client.connect();
  await client.query(`SET search_path TO "${spec.schema}"`);
  await client.query(statement);
  await client.end();
}

function migrationSuite(fresh: () => StorageSpec, tableNames: (spec: StorageSpec) => Promise<string[]>): void {
  it('fresh install: creates every table and records each migration once', async () => {
    const spec = fresh();
    const storage = openStorage(spec);
    await storage.migrate();
    await storage.close();
    expect(await tableNames(spec)).toEqual(TABLES);
    const rows = await inspect<{ version: number | string; name: string }>(spec, 'SELECT version, name FROM hookrelay_migrations ORDER BY version');
    expect(rows.map((r) => [Number(r.version), r.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
  });

  it('re-running is a no-op that keeps the data', async () => {
    const spec = fresh();
    const storage = openStorage(spec);
    await storage.migrate();
    const now = new Date();
    await storage.insertEvent({
      event: { id: 'evt_01KAAAAAAAAAAAAAAAAAAAAAAA', orgId: 'org_1', type: 'order.created', data: { a: 1 }, idempotencyKey: null, createdAt: now },
      deliveries: [],
    });
    const before = await inspect(spec, 'SELECT * FROM hookrelay_migrations ORDER BY version');
    await storage.migrate();
    await storage.migrate();
    expect(await inspect(spec, 'SELECT * FROM hookrelay_migrations ORDER BY version')).toEqual(before);
    expect(await storage.getEvent('org_1', 'evt_01KAAAAAAAAAAAAAAAAAAAAAAA')).toMatchObject({ data: { a: 1 } });
    await storage.close();
  });

  it('refuses a database migrated by a newer hookrelay, with a clear error', async () => {
    const spec = fresh();
    const storage = openStorage(spec);
    await storage.migrate();
    await execute(spec, `INSERT INTO hookrelay_migrations (version, name, applied_at) VALUES (${LATEST_VERSION + 1}, 'from the future', 0)`);
    const error = await storage.migrate().then(() => null, (e: unknown) => e);
    await storage.close();
    expect(error).toBeInstanceOf(WebhookError);
    expect(error).toMatchObject({ code: 'CONFLICT' });
    expect((error as Error).message).toMatch(new RegExp(`schema version ${LATEST_VERSION + 1}, newer than this hookrelay`));
  });

  it('two processes migrating at once: both succeed, each migration applied once', async () => {
    const spec = fresh();
    const workers = [0, 1].map(() => spawnWorker({ storage: spec, orgId: 'org_1', emit: 0, migrateOnly: true }));
    const lines = await Promise.all(workers.map((w) => w.waitFor((l) => l.migrated === true, 30_000)));
    expect(lines).toHaveLength(2);
    const rows = await inspect<{ version: number | string }>(spec, 'SELECT version FROM hookrelay_migrations ORDER BY version');
    expect(rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await tableNames(spec)).toEqual(TABLES);
  }, 40_000);
}

describe('migrations: SQLite', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  migrationSuite(
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'hookrelay-migrate-'));
      dirs.push(dir);
      return { kind: 'sqlite', filename: join(dir, 'webhooks.db') };
    },
    async (spec) =>
      (await inspect<{ name: string }>(spec, "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'hookrelay_%' ORDER BY name")).map(
        (r) => r.name,
      ),
  );
});

describePostgres('migrations: Postgres', (url) => {
  const schemas: string[] = [];
  afterEach(async () => {
    for (const schema of schemas.splice(0)) await dropSchema(url, schema);
  });
  const freshSchema = (): string => {
    const schema = testSchema('migrate');
    schemas.push(schema);
    return schema;
  };
  migrationSuite(
    () => ({ kind: 'postgres', url, schema: freshSchema() }),
    async (spec) =>
      (
        await inspect<{ table_name: string }>(
          spec,
          `SELECT table_name FROM information_schema.tables WHERE table_schema = '${(spec as { schema: string }).schema}' ORDER BY table_name`,
        )
      ).map((r) => r.table_name),
  );

  it('many storages in one process migrating the same fresh schema at once agree', async () => {
    const spec: StorageSpec = { kind: 'postgres', url, schema: freshSchema() };
    const storages = Array.from({ length: 5 }, () => openStorage(spec));
    await Promise.all(storages.map((s) => s.migrate()));
    await Promise.all(storages.map((s) => s.close()));
    const rows = await inspect<{ version: string }>(spec, 'SELECT version FROM hookrelay_migrations');
    expect(rows).toHaveLength(MIGRATIONS.length);
  });
});
