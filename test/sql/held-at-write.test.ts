import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { postgresStorage } from '../../adapters/postgres/index.js';
import type { SqlStorage } from '../../adapters/sql/sql-storage.js';
import { WebhookService } from '../../src/index.js';
import { describePostgres, testSchema } from '../support/postgres-test-db.js';

const ORG = 'org_held';

/**
 * "Events for a paused endpoint are kept (held), not dropped; resuming delivers them" (DESIGN,
 * from the yourautomation seed). An emit decides held from an endpoint read taken before its
 * write; a resume committing in between must not leave the new delivery held on an active
 * endpoint. The host's open transaction keeps the emit's write uncommitted while the resume
 * runs: without the endpoint lock, the resume's release would miss the uncommitted row and the
 * delivery would stay held forever.
 */
describePostgres('Postgres: a held emit racing a resume', (url) => {
  let schema: string;
  let pool: pg.Pool;
  let host: Kysely<Record<string, never>>;
  let storage: SqlStorage;
  let hooks: WebhookService;

  beforeEach(async () => {
    schema = testSchema('held');
    pool = new pg.Pool({ connectionString: url, max: 6 });
    await pool.query(`CREATE SCHEMA "${schema}"`);
    host = new Kysely({ dialect: new PostgresDialect({ pool }) });
    storage = postgresStorage({ db: host, schema });
    hooks = new WebhookService({ storage, eventTypes: ['order.created'] });
    await hooks.migrate();
  });
  afterEach(async () => {
    await storage.close();
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    await host.destroy();
  });

  it('a resume that starts while the held write is uncommitted waits for it, then releases it', async () => {
    const { endpoint } = await hooks.create(ORG, { url: 'https://hooks.example.com/orders', events: ['order.created'] });
    await hooks.update(ORG, endpoint.id, { status: 'paused' });

    let resumed: Promise<unknown> | undefined;
    const { deliveries } = await host.transaction().execute(async (trx) => {
      const emitted = await hooks.emit(ORG, { type: 'order.created', data: { n: 1 } }, { transaction: trx });
      expect(emitted.deliveries[0]).toMatchObject({ status: 'held' });
      // The resume runs while this transaction is still open; it must not finish before we commit.
      let resumeDone = false;
      resumed = hooks.update(ORG, endpoint.id, { status: 'active' }).then(() => (resumeDone = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(resumeDone).toBe(false);
      return emitted;
    });
    await resumed;
    const stored = await hooks.storage.getDelivery(ORG, deliveries[0]!.id);
    expect(stored).toMatchObject({ status: 'pending', completedAt: null });
    expect(stored?.nextAttemptAt).not.toBeNull();
  });
});
