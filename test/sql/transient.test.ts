import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postgresStorage } from '../../adapters/postgres/index.js';
import type { SqlStorage } from '../../adapters/sql/sql-storage.js';
import { sqliteStorage } from '../../adapters/sqlite/index.js';
import { WebhookError } from '../../src/errors.js';
import { at, attempt, endpointRecord, eventWrite, leaseToken } from '../support/storage-fixtures.js';
import { describePostgres, testSchema } from '../support/postgres-test-db.js';
import { openSqliteFileStorage } from '../support/sqlite-file-storage.js';

const ORG = 'org_transient';
const CAP = { maxPerOrg: 50 };

describe('SQLite: a busy database', () => {
  let dir: string;
  let filename: string;
  let blocker: Database.Database;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookrelay-busy-'));
    filename = join(dir, 'webhooks.db');
    const setup = sqliteStorage({ filename });
    await setup.migrate();
    await setup.close();
    // Another process's connection holding the write lock.
    blocker = new Database(filename);
    blocker.exec('BEGIN IMMEDIATE');
  });
  afterEach(() => {
    if (blocker.inTransaction) blocker.exec('ROLLBACK');
    blocker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SQLITE_BUSY is retried with backoff until the lock is released', async () => {
    const storage = sqliteStorage({ filename, busyTimeoutMs: 0, retry: { retries: 20, minTimeoutMs: 20, maxTimeoutMs: 80 } });
    setTimeout(() => blocker.exec('COMMIT'), 250);
    const record = endpointRecord(ORG, at(0));
    expect(await storage.createEndpoint(record, CAP)).toEqual(record);
    await storage.close();
  });

  it('when the lock is never released: STORAGE_UNAVAILABLE with the driver error as cause', async () => {
    const storage = sqliteStorage({ filename, busyTimeoutMs: 0, retry: { retries: 2, minTimeoutMs: 5, maxTimeoutMs: 10 } });
    const error = await storage.createEndpoint(endpointRecord(ORG, at(0)), CAP).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookError);
    expect(error).toMatchObject({ code: 'STORAGE_UNAVAILABLE', status: 503 });
    expect((error as Error).cause).toMatchObject({ code: 'SQLITE_BUSY' });
    blocker.exec('ROLLBACK');
    expect(await storage.listEndpoints(ORG, { limit: 10 })).toEqual([]);
    await storage.close();
  });
});

/**
 * A retry after a commit whose acknowledgement was lost replays the same call. These tests
 * replay calls by hand and check nothing is written twice.
 */
function replaySuite(open: () => Promise<{ storage: SqlStorage; close(): Promise<void> }>): void {
  let storage: SqlStorage;
  let close: () => Promise<void>;
  beforeEach(async () => {
    ({ storage, close } = await open());
  });
  afterEach(() => close());

  it('completeAttempt replayed with the same attempt id answers true and records the attempt once', async () => {
    const endpoint = await storage.createEndpoint(endpointRecord(ORG, at(0)), CAP);
    const write = eventWrite(ORG, [endpoint], { createdAt: at(1) });
    await storage.insertEvent(write);
    const token = leaseToken();
    const [claimed] = await storage.claimDueDeliveries({ now: at(2), limit: 1, leaseMs: 60_000, leaseToken: token });
    const request = {
      deliveryId: claimed!.delivery.id,
      leaseToken: token,
      attempt: attempt(claimed!.delivery, { attemptNumber: 1, startedAt: at(3), statusCode: 500 }),
      next: { status: 'pending' as const, nextAttemptAt: at(5_000) },
      now: at(4),
    };
    expect(await storage.completeAttempt(request)).toBe(true);
    expect(await storage.completeAttempt(request)).toBe(true);
    const stored = await storage.getDelivery(ORG, claimed!.delivery.id);
    expect(stored?.attempts).toHaveLength(1);
    expect(stored?.attemptCount).toBe(1);
    expect(stored?.nextAttemptAt).toEqual(at(5_000));
  });

  it('insertEvent replayed answers created with the same rows; the same id with other content is a CONFLICT', async () => {
    const endpoint = await storage.createEndpoint(endpointRecord(ORG, at(0)), CAP);
    const write = eventWrite(ORG, [endpoint], { createdAt: at(1), idempotencyKey: 'k-1' });
    await storage.insertEvent(write);
    expect(await storage.insertEvent(write)).toEqual({ event: write.event, deliveries: write.deliveries, created: true });
    expect(await storage.listDeliveries(ORG, { limit: 10 })).toHaveLength(1);
    const clash = { event: { ...write.event, data: { other: true }, idempotencyKey: null }, deliveries: [] };
    await expect(storage.insertEvent(clash)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('createEndpoint replayed returns the endpoint without using a second slot', async () => {
    const record = endpointRecord(ORG, at(0));
    await storage.createEndpoint(record, { maxPerOrg: 1 });
    expect(await storage.createEndpoint(record, { maxPerOrg: 1 })).toEqual(record);
    expect(await storage.listEndpoints(ORG, { limit: 10 })).toHaveLength(1);
  });

  it('rotateSecret replayed keeps one copy of the new secret', async () => {
    const record = await storage.createEndpoint(endpointRecord(ORG, at(0)), CAP);
    const secret = { secret: 'whsec_bmV3', createdAt: at(10), expiresAt: null };
    await storage.rotateSecret(ORG, record.id, secret, at(1_000), at(10));
    const again = await storage.rotateSecret(ORG, record.id, secret, at(1_000), at(10));
    expect(again?.secrets.map((s) => s.secret)).toEqual(['whsec_bmV3', record.secrets[0]!.secret]);
  });
}

describe('SQLite: replayed writes', () => {
  replaySuite(() => openSqliteFileStorage('hookrelay-replay-'));
});

describePostgres('Postgres: transient failures', (url) => {
  describe('replayed writes', () => {
    replaySuite(async () => {
      const schema = testSchema('replay');
      const storage = postgresStorage({ connectionString: url, schema });
      await storage.migrate();
      return {
        storage,
        close: async () => {
          await storage.close();
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          await client.query(`DROP SCHEMA "${schema}" CASCADE`);
          await client.end();
        },
      };
    });
  });

  it('an unreachable server is STORAGE_UNAVAILABLE with the connection error as cause', async () => {
    const closedPort = new URL(url);
    closedPort.port = '1';
    const storage = postgresStorage({ connectionString: closedPort.toString(), retry: { retries: 1, minTimeoutMs: 5, maxTimeoutMs: 10 } });
    const error = await storage.getEndpoint(ORG, 'wh_x').then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookError);
    expect(error).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
    await storage.close();
  });

  it('keeps working when the server terminates its connections (admin shutdown of backends)', async () => {
    const schema = testSchema('reset');
    const storage = postgresStorage({ connectionString: `${url}?application_name=hookrelay_reset_test`, schema, max: 3 });
    await storage.migrate();
    const endpoint = await storage.createEndpoint(endpointRecord(ORG, at(0)), CAP);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    for (let round = 0; round < 3; round++) {
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'hookrelay_reset_test'`,
      );
      expect(rowCount).toBeGreaterThan(0);
      expect(await storage.getEndpoint(ORG, endpoint.id)).toEqual(endpoint);
      await storage.insertEvent(eventWrite(ORG, [endpoint], { createdAt: at(round + 1) }));
    }
    expect(await storage.listDeliveries(ORG, { limit: 10 })).toHaveLength(3);
    // Connections killed while queries are in flight: the queries are retried, and the broken
    // clients never surface as an uncaught 'error' that would take the host process down.
    for (let round = 0; round < 3; round++) {
      const reads = Array.from({ length: 12 }, () => storage.getEndpoint(ORG, endpoint.id));
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'hookrelay_reset_test'`);
      for (const read of await Promise.all(reads)) expect(read).toEqual(endpoint);
    }
    await storage.close();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
  });
});
