import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { postgresStorage } from '../../adapters/postgres/index.js';
import type { SqlStorage } from '../../adapters/sql/sql-storage.js';
import { newId } from '../../src/ids.js';
import { endpointRecord, eventWrite } from '../support/storage-fixtures.js';
import { describePostgres, testSchema } from '../support/postgres-test-db.js';
import { waitUntil } from './support.js';

const ORG = 'org_notify';

describePostgres('Postgres LISTEN/NOTIFY', (url) => {
  let schema: string;
  let listening: SqlStorage;
  let writing: SqlStorage;
  let pool: pg.Pool;
  let wakes: number;
  let unsubscribe: () => void;

  beforeEach(async () => {
    schema = testSchema('notify');
    pool = new pg.Pool({ connectionString: url, max: 5 });
    // Two storages on separate pools stand for two processes.
    listening = postgresStorage({ pool, schema });
    writing = postgresStorage({ connectionString: url, schema });
    await writing.migrate();
    wakes = 0;
    unsubscribe = listening.subscribe!(() => {
      wakes++;
    });
    await waitUntil(async () => (await listenerPids(pool)).length === 1, 5_000, 'the LISTEN connection');
  });
  afterEach(async () => {
    unsubscribe();
    await listening.close();
    await writing.close();
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    await pool.end();
  });

  async function listenerPids(p: pg.Pool): Promise<number[]> {
    const { rows } = await p.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND state = 'idle'`);
    return rows.map((r) => r.pid);
  }

  async function emitPending(storage: SqlStorage, options = {}): Promise<void> {
    const endpoint = await storage.createEndpoint(endpointRecord(ORG, new Date(), { id: newId('endpoint') }), { maxPerOrg: 1000 });
    await storage.insertEvent(eventWrite(ORG, [endpoint], { createdAt: new Date() }), options);
  }

  it('a write in another process wakes the subscriber', async () => {
    await emitPending(writing);
    await waitUntil(() => wakes >= 1, 5_000, 'a wake-up');
  });

  it('fires on commit of a host transaction, never on rollback', async () => {
    const host = new Kysely<Record<string, never>>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }) });
    const endpoint = await writing.createEndpoint(endpointRecord(ORG, new Date()), { maxPerOrg: 1000 });
    await host
      .transaction()
      .execute(async (trx) => {
        await writing.insertEvent(eventWrite(ORG, [endpoint], { createdAt: new Date() }), { transaction: trx });
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect(wakes).toBe(0);
    await host.transaction().execute((trx) => writing.insertEvent(eventWrite(ORG, [endpoint], { createdAt: new Date() }), { transaction: trx }));
    await waitUntil(() => wakes === 1, 5_000, 'the wake-up on commit');
    await host.destroy();
  });

  it('reconnects when the LISTEN connection is killed, wakes once for what it may have missed, and keeps listening', async () => {
    const [pid] = await listenerPids(pool);
    await pool.query('SELECT pg_terminate_backend($1)', [pid]);
    await waitUntil(() => wakes >= 1, 5_000, 'the wake-up after reconnecting');
    await waitUntil(async () => {
      const pids = await listenerPids(pool);
      return pids.length === 1 && pids[0] !== pid;
    }, 5_000, 'a new LISTEN connection');
    const before = wakes;
    await emitPending(writing);
    await waitUntil(() => wakes > before, 5_000, 'a wake-up on the new connection');
  });

  it('the last unsubscribe closes the LISTEN connection', async () => {
    unsubscribe();
    await waitUntil(async () => (await listenerPids(pool)).length === 0, 5_000, 'the LISTEN connection to close');
  });
});
