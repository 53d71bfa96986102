import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { postgresStorage } from '../../adapters/postgres/index.js';
import type { SqlStorage } from '../../adapters/sql/sql-storage.js';
import { WebhookService } from '../../src/index.js';
import { newId, newUlid } from '../../src/ids.js';
import { describePostgres, testSchema } from '../support/postgres-test-db.js';

const ORG = 'org_plans';
const BACKLOG = 3000;

interface Captured {
  sql: string;
  parameters: readonly unknown[];
}

/**
 * Issue 5: "Indexes keep claiming O(log n) however large the backlog." Right after a burst of
 * emits, before autovacuum has analysed the table, the planner believes the due index holds a
 * few dozen rows. These tests replay hookrelay's own claim and finished-batch statements, as
 * it sent them, under EXPLAIN ANALYZE on a never-analysed table with a large due backlog and
 * check that neither reads the backlog: the claim walks the due index in order, the batch
 * finds its rows by primary key.
 */
describePostgres('Postgres: hot statements keep their plans with stale statistics', (url) => {
  let schema: string;
  let pool: pg.Pool;
  let db: Kysely<Record<string, never>>;
  let storage: SqlStorage;
  let captured: Captured[];

  beforeEach(async () => {
    schema = testSchema('plans');
    pool = new pg.Pool({ connectionString: url, max: 6 });
    await pool.query(`CREATE SCHEMA "${schema}"`);
    captured = [];
    db = new Kysely({
      dialect: new PostgresDialect({ pool }),
      log: (event) => {
        if (event.level === 'query') captured.push({ sql: event.query.sql, parameters: event.query.parameters });
      },
    });
    storage = postgresStorage({ db, schema });
    const hooks = new WebhookService({ storage, eventTypes: ['order.created'] });
    await hooks.migrate();
    await hooks.create(ORG, { url: 'https://hooks.example.com/orders', events: ['order.created'] });
    for (let i = 0; i < BACKLOG; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => hooks.emit(ORG, { type: 'order.created', data: { n: i + j } })));
    }
    const analysed = await pool.query(`SELECT last_analyze, last_autoanalyze FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'hookrelay_deliveries'`, [schema]);
    expect(analysed.rows[0]).toEqual({ last_analyze: null, last_autoanalyze: null });
  });

  afterEach(async () => {
    await storage.close();
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    await db.destroy();
  });

  /** EXPLAIN ANALYZE of a captured statement, after the same session settings it ran with, rolled back. */
  async function explain(statement: Captured, settings: string[] = []): Promise<string> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      for (const setting of settings) await client.query(setting);
      const { rows } = await client.query(`EXPLAIN (ANALYZE, COSTS OFF) ${statement.sql}`, statement.parameters as unknown[]);
      return rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  }

  it('a claim walks the due index in order instead of reading and sorting every due row', async () => {
    captured = [];
    const claimed = await storage.claimDueDeliveries({ now: new Date(Date.now() + 1000), limit: 50, leaseMs: 30_000, leaseToken: newUlid() });
    expect(claimed).toHaveLength(50);
    const at = captured.findIndex((c) => /FOR UPDATE SKIP LOCKED/.test(c.sql));
    expect(at).toBeGreaterThan(0);
    // Its own transaction turned bitmap scans off first; the replay does the same.
    const settings = captured.slice(0, at).map((c) => c.sql).filter((text) => /^\s*SET LOCAL/i.test(text));
    expect(settings).toEqual(['SET LOCAL enable_bitmapscan = off']);
    const plan = await explain(captured[at] as Captured, settings);
    expect(plan).toMatch(/Index Scan using hookrelay_deliveries_due_idx/);
    expect(plan).not.toMatch(/Bitmap|Sort/);
  });

  it('a batch of finished attempts does not read the backlog through an index of pending rows', async () => {
    const token = newUlid();
    const claimed = await storage.claimDueDeliveries({ now: new Date(Date.now() + 1000), limit: 40, leaseMs: 30_000, leaseToken: token });
    captured = [];
    const now = new Date();
    const results = await Promise.all(
      claimed.map(({ delivery }) =>
        storage.completeAttempt({
          deliveryId: delivery.id,
          leaseToken: token,
          attempt: {
            id: newId('attempt'),
            deliveryId: delivery.id,
            orgId: ORG,
            endpointId: delivery.endpointId,
            attemptNumber: 1,
            startedAt: now,
            durationMs: 3,
            statusCode: 200,
            errorKind: null,
            errorMessage: null,
            responseExcerpt: null,
          },
          next: { status: 'succeeded' },
          now,
        }),
      ),
    );
    expect(results.every(Boolean)).toBe(true);
    const batch = captured.find((c) => /json_to_recordset/.test(c.sql));
    expect(batch, 'finished attempts arriving together share one statement').toBeDefined();
    const plan = await explain(batch as Captured);
    // Neither index over pending rows: the due index holds the whole backlog, and the endpoint
    // index's second column (status) is read end to end. What is left is the primary key or,
    // while the table is small enough for it to be cheaper, one pass over the table.
    expect(plan).not.toMatch(/hookrelay_deliveries_due_idx|hookrelay_deliveries_endpoint_idx/);
    expect(plan).toMatch(/hookrelay_deliveries_pkey|Seq Scan on hookrelay_deliveries/);
  });
});
