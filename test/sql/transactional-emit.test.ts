import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postgresStorage } from '../../adapters/postgres/index.js';
import { sqliteStorage } from '../../adapters/sqlite/index.js';
import type { SqlStorage } from '../../adapters/sql/sql-storage.js';
import { WebhookService } from '../../src/index.js';
import { createTestReceiver, type TestReceiver } from '../../src/testing/index.js';
import { describePostgres, testSchema } from '../support/postgres-test-db.js';
import { at, endpointRecord, eventWrite } from '../support/storage-fixtures.js';

interface HostTables {
  orders: { id: string; total: number };
}

const ORG = 'org_outbox';

/**
 * The transactional outbox (issue 5): `emit(…, { transaction })` joins the host's own kysely
 * transaction, so the event commits or rolls back with the host's writes.
 */
function outboxScenario(setup: () => Promise<{ host: Kysely<HostTables>; storage: SqlStorage; close(): Promise<void> }>): void {
  let host: Kysely<HostTables>;
  let storage: SqlStorage;
  let close: () => Promise<void>;
  let hooks: WebhookService;
  let receiver: TestReceiver;

  beforeEach(async () => {
    ({ host, storage, close } = await setup());
    await sql`CREATE TABLE orders (id text PRIMARY KEY, total integer NOT NULL)`.execute(host);
    await storage.migrate();
    receiver = await createTestReceiver();
    hooks = new WebhookService({ storage, eventTypes: ['order.created'], delivery: { allowHttp: true, allowPrivateNetworks: true } });
    await hooks.create(ORG, { url: receiver.url, events: ['order.created'] });
  });
  afterEach(async () => {
    await hooks.stop();
    await receiver.close();
    await close();
  });

  it('rollback: neither the host row nor the event exists, and nothing is delivered', async () => {
    let eventId = '';
    const failure = await host
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('orders').values({ id: 'ord_1', total: 1250 }).execute();
        const { event } = await hooks.emit(ORG, { type: 'order.created', data: { orderId: 'ord_1' } }, { transaction: trx });
        eventId = event.id;
        throw new Error('payment declined');
      })
      .catch((e: unknown) => e);
    expect(failure).toMatchObject({ message: 'payment declined' });
    expect(await host.selectFrom('orders').selectAll().execute()).toEqual([]);
    expect(await storage.getEvent(ORG, eventId)).toBeNull();
    expect(await hooks.storage.listDeliveries(ORG, { limit: 10 })).toEqual([]);
    await hooks.deliverDue();
    expect(receiver.requests).toHaveLength(0);
  });

  it('commit: the host row and the event land together, and the event is delivered', async () => {
    const { event } = await host.transaction().execute(async (trx) => {
      await trx.insertInto('orders').values({ id: 'ord_2', total: 990 }).execute();
      return hooks.emit(ORG, { type: 'order.created', data: { orderId: 'ord_2' } }, { transaction: trx });
    });
    expect(await host.selectFrom('orders').select('id').execute()).toEqual([{ id: 'ord_2' }]);
    expect(await storage.getEvent(ORG, event.id)).toMatchObject({ id: event.id, data: { orderId: 'ord_2' } });
    hooks.start();
    const [request] = await receiver.waitFor(1, 10_000);
    expect(request?.json).toMatchObject({ id: event.id, type: 'order.created', data: { orderId: 'ord_2' } });
  });

  it('refuses something that is not a kysely transaction with BAD_REQUEST and writes nothing', async () => {
    await expect(hooks.emit(ORG, { type: 'order.created', data: {} }, { transaction: { query: () => undefined } })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(await hooks.storage.listDeliveries(ORG, { limit: 10 })).toEqual([]);
  });
}

/** A SQLite file in a fresh temp dir, with the host's own connection and hookrelay's beside it. */
async function sqliteOutbox(): Promise<{ host: Kysely<HostTables>; storage: SqlStorage; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'hookrelay-outbox-'));
  const filename = join(dir, 'app.db');
  const hostDatabase = new Database(filename);
  hostDatabase.pragma('journal_mode = WAL');
  hostDatabase.pragma('busy_timeout = 5000');
  const host = new Kysely<HostTables>({ dialect: new SqliteDialect({ database: hostDatabase }) });
  const storage = sqliteStorage({ filename });
  return {
    host,
    storage,
    async close() {
      await storage.close();
      await host.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('transactional emit: SQLite', () => {
  outboxScenario(sqliteOutbox);
});

describe('SQLite: the scheduler waits for a write lock your own connection holds without stalling your app', () => {
  it('a claim during your open transaction waits with the event loop free, then claims what it committed', async () => {
    const { host, storage, close } = await sqliteOutbox();
    const hooks = new WebhookService({ storage, eventTypes: ['order.created'] });
    try {
      await sql`CREATE TABLE orders (id text PRIMARY KEY, total integer NOT NULL)`.execute(host);
      await hooks.migrate();
      await hooks.create(ORG, { url: 'https://hooks.example.com/orders', events: ['order.created'] });
      // The longest the event loop goes without running a 5 ms timer while all this happens.
      let longestStall = 0;
      let last = performance.now();
      const ticker = setInterval(() => {
        const now = performance.now();
        longestStall = Math.max(longestStall, now - last);
        last = now;
      }, 5);
      let claim: Promise<unknown[]> | undefined;
      await host.transaction().execute(async (trx) => {
        await trx.insertInto('orders').values({ id: 'ord_1', total: 100 }).execute();
        await hooks.emit(ORG, { type: 'order.created', data: { orderId: 'ord_1' } }, { transaction: trx });
        // The scheduler's claim needs the write lock this transaction holds until it commits.
        claim = storage.claimDueDeliveries({ now: new Date(Date.now() + 1000), limit: 10, leaseMs: 30_000, leaseToken: 'lease_outbox' });
        // The app keeps doing I/O inside its transaction; a claim blocking the thread would stall it.
        await new Promise((resolve) => setTimeout(resolve, 50));
      });
      const claimed = await claim;
      clearInterval(ticker);
      expect(claimed).toHaveLength(1);
      // better-sqlite3 waits out busy_timeout synchronously; with the old 5 s default this stall
      // was over 5 s (10 s, counting a retry that ran without backoff). A generous bound, not a benchmark.
      expect(longestStall).toBeLessThan(1000);
    } finally {
      await hooks.stop();
      await close();
    }
  });
});

describe('SQLite: an emit that fails inside your transaction leaves nothing behind', () => {
  it('caught and committed anyway, the transaction holds neither the event nor any of its deliveries', async () => {
    const { host, storage, close } = await sqliteOutbox();
    try {
      await sql`CREATE TABLE orders (id text PRIMARY KEY, total integer NOT NULL)`.execute(host);
      await storage.migrate();
      const endpoints = [endpointRecord(ORG, at(0)), endpointRecord(ORG, at(1))];
      for (const endpoint of endpoints) await storage.createEndpoint(endpoint, { maxPerOrg: 10 });
      const earlier = eventWrite(ORG, endpoints, { createdAt: at(2) });
      await storage.insertEvent(earlier);
      // A second event whose last delivery reuses an existing delivery id: its event row is
      // written by the statement before the one that fails.
      const clashing = eventWrite(ORG, endpoints, { createdAt: at(3) });
      clashing.deliveries[1] = { ...clashing.deliveries[1]!, id: earlier.deliveries[0]!.id };
      await host.transaction().execute(async (trx) => {
        await trx.insertInto('orders').values({ id: 'ord_1', total: 100 }).execute();
        const failure = await storage.insertEvent(clashing, { transaction: trx }).catch((e: unknown) => e);
        expect(failure).toMatchObject({ code: 'CONFLICT' });
      });
      expect(await host.selectFrom('orders').selectAll().execute()).toHaveLength(1);
      expect(await storage.getEvent(ORG, clashing.event.id)).toBeNull();
      expect(await storage.getDelivery(ORG, clashing.deliveries[0]!.id)).toBeNull();
    } finally {
      await close();
    }
  });
});

describePostgres('transactional emit: Postgres', (url) => {
  outboxScenario(async () => {
    const schema = testSchema('outbox');
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.end();
    // The host's tables live in the schema too (search_path set at connection start-up).
    const pool = new pg.Pool({ connectionString: url, max: 5, options: `-c search_path=${schema}` });
    // hookrelay shares the host's kysely instance (`{ db }`), tables in the same schema.
    const host = new Kysely<HostTables>({ dialect: new PostgresDialect({ pool }) });
    const storage = postgresStorage({ db: host, schema });
    return {
      host,
      storage,
      async close() {
        await storage.close();
        await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
        await host.destroy();
      },
    };
  });
});
