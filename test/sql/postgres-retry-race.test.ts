import pg from 'pg';
import { Kysely, type KyselyPlugin, PostgresDialect } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { postgresStorage } from '../../adapters/postgres/index.js';
import type { SqlStorage } from '../../adapters/sql/sql-storage.js';
import type { Delivery } from '../../src/model.js';
import { at, attempt, delivery, endpointRecord, event, leaseToken } from '../support/storage-fixtures.js';
import { describePostgres, dropSchema, testSchema } from '../support/postgres-test-db.js';

/**
 * A manual retry reads the delivery, then requeues it. Another retry (a double click) or a
 * replay may requeue it in between, and a scheduler claim it: the late requeue must then leave
 * that live lease alone, or a second worker claims the same delivery while the first is still
 * sending, and the first one's attempt is never recorded.
 */
describePostgres('Postgres: a retry racing another retry keeps the claim made in between', (url) => {
  let schema: string;
  let pool: pg.Pool;
  let db: Kysely<unknown>;
  let paused: SqlStorage;
  let other: SqlStorage;
  /** When armed, the next read of the deliveries table waits for `resume` after returning. */
  let armed = false;
  let reached!: () => void;
  let resume!: () => void;

  beforeEach(async () => {
    schema = testSchema('race');
    const reads = new Map<unknown, boolean>();
    const pauseAfterDeliveryRead: KyselyPlugin = {
      transformQuery({ node, queryId }) {
        reads.set(queryId, node.kind === 'SelectQueryNode' && JSON.stringify(node).includes('hookrelay_deliveries'));
        return node;
      },
      async transformResult({ result, queryId }) {
        if (armed && reads.get(queryId)) {
          armed = false;
          reached();
          await new Promise<void>((resolve) => (resume = resolve));
        }
        return result;
      },
    };
    pool = new pg.Pool({ connectionString: url, max: 4 });
    db = new Kysely({ dialect: new PostgresDialect({ pool }), plugins: [pauseAfterDeliveryRead] });
    paused = postgresStorage({ db, schema, notifications: false });
    other = postgresStorage({ connectionString: url, schema, notifications: false });
    await other.migrate();
  });
  afterEach(async () => {
    await paused.close();
    await db.destroy();
    await other.close();
    await dropSchema(url, schema);
  });

  /** A delivery attempted once and failed: finished, so a manual retry requeues it. */
  async function failedDelivery(): Promise<Delivery> {
    const endpoint = endpointRecord('org_1', at(0));
    await other.createEndpoint(endpoint, { maxPerOrg: 10 });
    const evt = event('org_1', { createdAt: at(0) });
    const d = delivery(evt, endpoint);
    await other.insertEvent({ event: evt, deliveries: [d] });
    const token = leaseToken();
    await other.claimDueDeliveries({ now: at(10), limit: 10, leaseMs: 60_000, leaseToken: token });
    await other.completeAttempt({ deliveryId: d.id, leaseToken: token, attempt: attempt(d, { attemptNumber: 1, startedAt: at(11) }), next: { status: 'failed' }, now: at(12) });
    return d;
  }

  /**
   * Starts a retry through `paused`; resolves once it has read the delivery and waits there. The
   * retry comes back wrapped: an async function returning the promise itself would wait for it.
   */
  async function retryPausedAfterRead(d: Delivery): Promise<{ retry: Promise<Delivery | null> }> {
    const readDone = new Promise<void>((resolve) => (reached = resolve));
    armed = true;
    const retry = paused.retryDelivery('org_1', d.id, at(100));
    await readDone;
    return { retry };
  }

  it('the late retry answers the delivery as it is and leaves its lease alone', async () => {
    const d = await failedDelivery();
    const { retry: lateRetry } = await retryPausedAfterRead(d); // it has read the delivery as failed
    expect((await other.retryDelivery('org_1', d.id, at(100)))?.status).toBe('pending');
    const workerOne = leaseToken();
    expect(await other.claimDueDeliveries({ now: at(200), limit: 10, leaseMs: 60_000, leaseToken: workerOne })).toHaveLength(1);
    resume();
    expect((await lateRetry)?.status).toBe('pending');

    // Worker one is still sending: nobody else may claim the delivery while its lease lasts.
    expect(await other.claimDueDeliveries({ now: at(300), limit: 10, leaseMs: 60_000, leaseToken: leaseToken() })).toHaveLength(0);
    const recorded = await other.completeAttempt({
      deliveryId: d.id,
      leaseToken: workerOne,
      attempt: attempt(d, { attemptNumber: 2, startedAt: at(201), statusCode: 200 }),
      next: { status: 'succeeded' },
      now: at(400),
    });
    expect(recorded).toBe(true);
    const final = await other.getDelivery('org_1', d.id);
    expect(final).toMatchObject({ status: 'succeeded', attemptCount: 2 });
    expect(final?.attempts).toHaveLength(2);
  });

  it('a retry of a delivery pruned after it was read is not found, not an error', async () => {
    const d = await failedDelivery();
    const { retry: lateRetry } = await retryPausedAfterRead(d);
    await pool.query(`DELETE FROM "${schema}".hookrelay_deliveries WHERE id = $1`, [d.id]);
    resume();
    expect(await lateRetry).toBeNull();
  });
});
