import { afterEach, expect, it } from 'vitest';
import { WebhookService } from '../../src/index.js';
import { createTestReceiver, type TestReceiver } from '../../src/testing/index.js';
import { describePostgres, dropSchema, testSchema } from '../support/postgres-test-db.js';
import { openStorage, type StorageSpec } from './fixtures/storage-spec.js';
import { arrivals, inspect, spawnWorker, waitUntil, type WorkerProcess } from './support.js';

const ORG = 'org_shared';
const EVENTS = 300;

describePostgres('several processes on one Postgres', (url) => {
  let receiver: TestReceiver | undefined;
  const workers: WorkerProcess[] = [];
  const schema = testSchema('multi');
  afterEach(async () => {
    for (const w of workers.splice(0)) if (w.child.exitCode === null) await w.kill();
    await receiver?.close();
    await dropSchema(url, schema);
  });

  it('three schedulers share one backlog: every event delivered, none twice, woken by NOTIFY', async () => {
    const spec: StorageSpec = { kind: 'postgres', url, schema };
    receiver = await createTestReceiver();
    receiver.setDefault({ kind: 'slow', ms: 5 });
    const storage = openStorage(spec);
    await storage.migrate();
    const hooks = new WebhookService({ storage, eventTypes: ['order.created'], delivery: { allowHttp: true, allowPrivateNetworks: true } });
    for (let i = 0; i < 3; i++) await hooks.create(ORG, { url: `${receiver.url}?endpoint=${i}`, events: ['order.created'] });

    // A 30 s poll interval: finishing within the test's budget takes LISTEN/NOTIFY wake-ups.
    // Small batches spread the backlog over the three processes.
    for (let i = 0; i < 3; i++) workers.push(spawnWorker({ storage: spec, orgId: ORG, emit: 0, pollInterval: '30s', lease: '30s', timeout: '10s', batchSize: 10 }));
    await Promise.all(workers.map((w) => w.waitFor((l) => l.ready === true)));
    // The LISTEN connections open right after start; give them a moment before the burst.
    await new Promise((r) => setTimeout(r, 500));

    for (let i = 0; i < EVENTS / 3; i++) await hooks.emit(ORG, { type: 'order.created', data: { n: i } });
    await waitUntil(() => receiver!.requests.length >= EVENTS, 30_000, `${EVENTS} deliveries`);
    await waitUntil(
      async () => {
        const [row] = await inspect<{ open: string }>(spec, `SELECT count(*) AS open FROM hookrelay_deliveries WHERE status <> 'succeeded'`);
        return Number(row?.open) === 0;
      },
      10_000,
      'every delivery recorded as succeeded',
    );
    const finals = await Promise.all(workers.map((w) => w.stop()));
    await storage.close();

    const perDelivery = new Map<string, number>();
    for (const r of receiver.requests) {
      const key = `${(r.json as { id: string }).id} ${r.path}`;
      perDelivery.set(key, (perDelivery.get(key) ?? 0) + 1);
    }
    expect(perDelivery.size).toBe(EVENTS);
    // A second arrival is only allowed where an attempt failed (a timeout on an overloaded
    // machine is retried): never because two processes held the same delivery.
    const failures = finals.reduce((sum, f) => sum + Number(f.failed), 0);
    const duplicates = [...perDelivery.values()].reduce((sum, n) => sum + n - 1, 0);
    expect(duplicates).toBeLessThanOrEqual(failures);
    if (failures === 0) expect(duplicates).toBe(0);
    expect(arrivals(receiver.requests).size).toBe(EVENTS / 3);
    const delivered = finals.map((f) => Number(f.delivered));
    expect(delivered.reduce((a, b) => a + b, 0)).toBe(EVENTS);
    expect(receiver.requests.length).toBe(EVENTS + failures);
    // Every process took part in the work.
    for (const n of delivered) expect(n).toBeGreaterThan(0);
    const [attempts] = await inspect<{ n: string }>(spec, 'SELECT count(*) AS n FROM hookrelay_attempts');
    expect(Number(attempts?.n)).toBe(EVENTS + failures);
  }, 60_000);
});
