import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresStorage } from '../../adapters/postgres/index.js';
import { WebhookError, WebhookService } from '../../src/index.js';
import { createTestReceiver, type TestReceiver } from '../../src/testing/index.js';
import { arrivals, waitUntil } from '../sql/support.js';
import { findPostgresBin, type PostgresCluster, startPostgresCluster } from '../support/postgres-cluster.js';

const ORG = 'org_outage';
const OUTAGE_MS = 4000;
const ENDPOINTS = 2;

const bin = findPostgresBin();
if (!bin && process.env.CI === 'true') throw new Error('the database outage test needs Postgres server binaries under CI');
if (!bin) console.warn('\n⚠ SKIPPING the database outage test: no Postgres server binaries under /usr/lib/postgresql/*/bin\n');

type EmitOutcome = { n: number; at: number; ms: number } & ({ ok: true } | { ok: false; error: unknown });

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * The database goes away mid-run for a few seconds (a server of this test's own is stopped and
 * started again): emits fail fast with STORAGE_UNAVAILABLE and write nothing half-way, the
 * scheduler keeps running through it, and delivery resumes by itself when the server is back.
 */
(bin ? describe : describe.skip)('database outage: Postgres stopped mid-run, then started again', () => {
  let server: PostgresCluster;
  let receiver: TestReceiver;
  beforeAll(async () => {
    server = await startPostgresCluster(bin!);
    receiver = await createTestReceiver();
    receiver.setDefault({ kind: 'slow', ms: 5 });
  }, 60_000);
  afterAll(async () => {
    await receiver?.close();
    await server?.stop();
  });

  it('emits fail with STORAGE_UNAVAILABLE during the outage, nothing is half-written, delivery resumes on its own', async () => {
    const storage = postgresStorage({ connectionString: server.url });
    const hooks = new WebhookService({
      storage,
      eventTypes: ['order.created'],
      // A short lease: an attempt whose result could not be recorded in the outage is sent again
      // once its lease runs out.
      delivery: { allowHttp: true, allowPrivateNetworks: true, timeout: '1s', lease: '3s', pollInterval: '200ms' },
    });
    await hooks.migrate();
    for (let i = 0; i < ENDPOINTS; i++) await hooks.create(ORG, { url: `${receiver.url}?endpoint=${i}`, events: ['order.created'] });
    const engineErrors: { during: string; at: number }[] = [];
    hooks.on('error', ({ during }) => {
      engineErrors.push({ during, at: Date.now() });
    });
    hooks.start();

    const outcomes: EmitOutcome[] = [];
    let n = 0;
    let emitting = true;
    const emitLoop = (async () => {
      while (emitting) {
        const at = Date.now();
        const current = n++;
        try {
          await hooks.emit(ORG, { type: 'order.created', data: { n: current }, idempotencyKey: `order-${current}` });
          outcomes.push({ n: current, at, ms: Date.now() - at, ok: true });
        } catch (error) {
          outcomes.push({ n: current, at, ms: Date.now() - at, ok: false, error });
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    await waitUntil(() => receiver.requests.length >= 50, 20_000, 'deliveries before the outage');
    const outageFrom = Date.now();
    server.stopServer();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    server.startServer();
    const outageTo = Date.now();
    const receivedAtRestart = receiver.requests.length;
    await new Promise((r) => setTimeout(r, 1500));
    emitting = false;
    await emitLoop;

    const failed = outcomes.filter((o): o is EmitOutcome & { ok: false; error: unknown } => !o.ok);
    const succeeded = outcomes.filter((o) => o.ok);
    // Emits during the outage failed, each with the typed error a host can act on.
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) {
      expect(f.error).toBeInstanceOf(WebhookError);
      expect((f.error as WebhookError).code).toBe('STORAGE_UNAVAILABLE');
      expect((f.error as WebhookError).status).toBe(503);
      expect(f.at).toBeGreaterThanOrEqual(outageFrom - 2000);
      expect(f.at).toBeLessThanOrEqual(outageTo);
    }
    // The scheduler kept running: it reported what it could not do, and never stopped.
    expect(engineErrors.some((e) => e.at >= outageFrom && e.at <= outageTo + 1000)).toBe(true);

    // Delivery resumes by itself: every acknowledged emit reaches both endpoints, without restarting anything.
    const acknowledged = new Set(succeeded.map((o) => o.n));
    const delivered = (): number => {
      const byEvent = new Map<number, Set<string>>();
      for (const r of receiver.requests) {
        const json = r.json as { data?: { n?: number } } | undefined;
        const num = json?.data?.n;
        if (typeof num !== 'number') continue;
        const set = byEvent.get(num) ?? new Set<string>();
        set.add(r.path);
        byEvent.set(num, set);
      }
      return [...acknowledged].filter((num) => (byEvent.get(num)?.size ?? 0) === ENDPOINTS).length;
    };
    await waitUntil(() => delivered() === acknowledged.size, 30_000, `all ${acknowledged.size} acknowledged events to reach both endpoints`);
    expect(receiver.requests.length).toBeGreaterThan(receivedAtRestart);

    // Nothing half-written: every stored event carries exactly its deliveries, every delivery its event.
    const perEvent = await query<{ n: string; deliveries: string }>(
      server.url,
      `SELECT e.data::json->>'n' AS n, count(d.id) AS deliveries FROM hookrelay_events e LEFT JOIN hookrelay_deliveries d ON d.event_id = e.id GROUP BY e.id, e.data`,
    );
    for (const row of perEvent) expect(Number(row.deliveries), `event n=${row.n}`).toBe(ENDPOINTS);
    const [orphans] = await query<{ count: string }>(
      server.url,
      'SELECT count(*) FROM hookrelay_deliveries d LEFT JOIN hookrelay_events e ON e.id = d.event_id WHERE e.id IS NULL',
    );
    expect(Number(orphans?.count)).toBe(0);
    const stored = new Set(perEvent.map((row) => Number(row.n)));
    for (const num of acknowledged) expect(stored.has(num), `acknowledged event n=${num} is missing`).toBe(true);
    // A failed emit may still have committed (the commit's answer lost with the connection); the
    // host's retry with the same idempotency key then returns it instead of writing it twice.
    const committedDespiteError = failed.filter((f) => stored.has(f.n)).length;
    for (const f of failed) await hooks.emit(ORG, { type: 'order.created', data: { n: f.n }, idempotencyKey: `order-${f.n}` });
    const [events] = await query<{ count: string }>(server.url, 'SELECT count(*) FROM hookrelay_events');
    expect(Number(events?.count)).toBe(outcomes.length);

    await waitUntil(
      async () => {
        const [open] = await query<{ count: string }>(server.url, `SELECT count(*) FROM hookrelay_deliveries WHERE status <> 'succeeded'`);
        return Number(open?.count) === 0;
      },
      30_000,
      'every delivery, retried emits included, to succeed',
    );
    await hooks.stop();
    await storage.close();
    const seen = arrivals(receiver.requests);
    console.info(
      `[outage] ${OUTAGE_MS} ms outage: ${outcomes.length} emits, ${failed.length} failed with STORAGE_UNAVAILABLE after ${Math.min(...failed.map((f) => f.ms))}–${Math.max(...failed.map((f) => f.ms))} ms ` +
        `(${committedDespiteError} of them had committed), ${engineErrors.length} scheduler errors reported, ` +
        `${seen.size} events delivered, ${receiver.requests.length - seen.size * ENDPOINTS} duplicate arrivals`,
    );
  }, 60_000);
});
